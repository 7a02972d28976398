"""Regenerate the asking fixtures under tests/fixtures/ask/: ten short espeak-ng meetings (Ogg/Opus) and
eval.json, the evaluation set of bench/ask.py (questions, the recording and sentence that answers each, with
the sentence's time span as laid out here; questions that no recording answers have none).

Requires espeak-ng and the project's uv environment. Usage: uv run python scripts/make_ask_fixtures.py
"""

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_audio import write_opus  # noqa: E402
from make_diarization_fixtures import lay_out, speak  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/ask"
VOICES = ("en-us", "en-us+m3")  # sentences alternate between two voices tiny.en hears well

# Each recording's sentences; each question names the sentence (by index) that answers it. Many questions
# share no word with their answer ("Portugal branch" for "Lisbon office"): keyword search cannot find them.
MEETINGS: dict[str, tuple[list[str], list[tuple[str, int]]]] = {
    "office": (
        [
            "Good morning, this is the weekly update from the operations team.",
            "The Lisbon office opens on the fourteenth of March.",
            "We hired twelve engineers for the new location.",
            "Rent for the building is lower than we expected.",
        ],
        [
            ("When does the Portugal branch start operating?", 1),
            ("How many engineers did we hire?", 2),
            ("Is the property cheaper than planned?", 3),
        ],
    ),
    "launch": (
        [
            "Welcome to the product review meeting.",
            "The mobile app release moves to the second week of June.",
            "Testers found a crash when people upload large photos.",
            "Marketing will prepare a short video for the launch.",
        ],
        [
            ("When will the phone application ship?", 1),
            ("What bug showed up with big pictures?", 2),
            ("Who makes a clip to promote it?", 3),
        ],
    ),
    "budget": (
        [
            "Let us talk about money for the coming year.",
            "Travel spending will be cut by twenty percent.",
            "The training budget stays the same as last year.",
            "Every department must send its forecast before Friday.",
        ],
        [
            ("Will we spend less on business trips?", 1),
            ("What happens to the training budget?", 2),
            ("When are the departmental projections due?", 3),
        ],
    ),
    "support": (
        [
            "This is the customer support review.",
            "Average waiting time on the phone fell to three minutes.",
            "Most complaints were about late deliveries.",
            "We will add a chat window to the website.",
        ],
        [
            ("How long do callers wait on hold now?", 1),
            ("What did clients grumble about?", 2),
            ("Will there be live messaging on our site?", 3),
        ],
    ),
    "hiring": (
        [
            "Here is the recruiting status for this month.",
            "We are looking for two data scientists.",
            "Interviews will be held online on Tuesdays.",
            "Every candidate gets a small coding exercise.",
        ],
        [
            ("Which roles are open?", 1),
            ("On which day do we talk to applicants?", 2),
            ("Do applicants have to write a program?", 3),
        ],
    ),
    "security": (
        [
            "The security team shares an incident report.",
            "Someone tried to guess administrator passwords last weekend.",
            "All staff must turn on two factor login by Monday.",
            "Laptops will be encrypted during the next upgrade.",
        ],
        [
            ("Was there an attack on our accounts?", 1),
            ("What is the deadline for two factor login?", 2),
            ("Will our notebooks get disk protection?", 3),
        ],
    ),
    "facilities": (
        [
            "A quick note from facilities.",
            "The coffee machine on the third floor is broken.",
            "A technician will repair it on Wednesday morning.",
            "Please use the kitchen on the second floor until then.",
        ],
        [
            ("Is the espresso maker working?", 1),
            ("When will someone fix it?", 2),
            ("Where can I make a hot drink meanwhile?", 3),
        ],
    ),
    "sales": (
        [
            "The sales team reviews the last quarter.",
            "Revenue grew by eight percent compared to spring.",
            "Our biggest new customer is a hospital in Denver.",
            "Prices for the basic plan will rise in October.",
        ],
        [
            ("Did our income go up?", 1),
            ("Who is the largest new client?", 2),
            ("Is the entry subscription getting more expensive?", 3),
        ],
    ),
    "research": (
        [
            "This is the research group's monthly summary.",
            "The new battery lasts twice as long in cold weather.",
            "We filed a patent for the charging method.",
            "Field tests start in Norway next winter.",
        ],
        [
            ("How does the new cell behave when it is freezing?", 1),
            ("Did we protect the charging invention legally?", 2),
            ("Where will the trials take place?", 3),
        ],
    ),
    "party": (
        [
            "Let me tell you about the company party.",
            "The summer picnic takes place at the lake on July the ninth.",
            "Families and children are welcome.",
            "Please tell us about any food allergies.",
        ],
        [
            ("When is the outdoor staff gathering?", 1),
            ("Can kids come along?", 2),
            ("What should people with dietary restrictions do?", 3),
        ],
    ),
}
UNANSWERABLE = [
    "What is the capital of Australia?",
    "Who won the football match yesterday?",
    "How do I reset the oil light in my car?",
    "What is the recipe for banana bread?",
    "Which planet is the largest in the solar system?",
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    questions: list[dict[str, object]] = []
    recordings: dict[str, list[dict[str, object]]] = {}
    with tempfile.TemporaryDirectory() as d:
        for name, (sentences, asked) in MEETINGS.items():
            pieces = [(str(i % 2), speak(VOICES[i % 2], text, Path(d)), False) for i, text in enumerate(sentences)]
            pcm, turns = lay_out(pieces)
            write_opus(OUT / f"{name}.ogg", pcm, 24000)
            spans = [
                {"start": round(s, 2), "end": round(e, 2), "text": t}
                for (_, s, e), t in zip(turns, sentences, strict=True)
            ]
            recordings[name] = spans
            questions += [{"question": q, "recording": name, **spans[i]} for q, i in asked]
    questions += [{"question": q, "recording": None} for q in UNANSWERABLE]
    document = {"recordings": recordings, "questions": questions}
    (OUT / "eval.json").write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
