#!/usr/bin/env bash
# Regenerate the speech fixtures under tests/fixtures/audio/.
#
# Requires: espeak-ng (e.g. `apt-get install -y espeak-ng`) and the project's
# uv environment (PyAV, the `av` package, plus numpy). No ffmpeg or sox
# binaries are needed: espeak-ng synthesizes the speech, and PyAV resamples it
# and encodes it in-process.
#
# Outputs (16 kHz mono; each speech file has a sibling .txt holding the exact
# spoken text on one line):
#   short_meeting.wav   ~10 s, 16-bit PCM WAV (canonical 44-byte header)
#   short_meeting.ogg   the same audio as Ogg/Opus, 32 kbit/s
#   truncated.wav       the first 40% of short_meeting.wav's bytes (the RIFF
#                       header still claims the full length)
#   not_audio.bin       2048 bytes: a PDF-like header + seeded pseudo-random bytes
#   empty.wav           zero bytes
#   bench_60s.ogg       ~60 s of varied speech, Ogg/Opus 24 kbit/s
#   bench_300s.ogg      ~300 s of varied speech, Ogg/Opus 24 kbit/s
#
# Usage: scripts/make_fixtures.sh        (VOICE and SPEED may be overridden)
# The output is deterministic for a given espeak-ng / libopus version.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/tests/fixtures/audio"
VOICE=${VOICE:-en-us}
SPEED=${SPEED:-150}          # words per minute
BENCH60_SENTENCES=13         # bench_60s uses the first N bench sentences

command -v espeak-ng >/dev/null || { echo "error: espeak-ng not found (apt-get install -y espeak-ng)" >&2; exit 1; }
command -v uv >/dev/null || { echo "error: uv not found" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"

# synth NAME: read sentences (one per line) from stdin and synthesize each one
# to $TMP/NAME/NNN.wav, keeping its text in $TMP/NAME/NNN.txt.
synth() {
    local name=$1 i=0 line base
    mkdir -p "$TMP/$name"
    while IFS= read -r line; do
        [[ -z "$line" ]] && continue
        i=$((i + 1))
        base="$TMP/$name/$(printf '%03d' "$i")"
        printf '%s\n' "$line" >"$base.txt"
        espeak-ng -v "$VOICE" -s "$SPEED" -w "$base.wav" -f "$base.txt"
    done
}

synth short <<'EOF'
Good morning everyone.
Today we will review the budget for the next quarter.
Please share your notes with the team before Friday afternoon.
EOF

synth bench <<'EOF'
Good morning everyone and thank you for joining the weekly planning meeting.
Today we will review the budget for the next quarter and agree on the main goals.
The sales team reported strong growth in the northern region during the last month.
Our biggest customer asked for a new contract with better support hours.
We need to finish the design work before the end of the month.
Please send your notes to the project manager after this call.
The marketing plan will focus on small companies that need simple tools.
Many customers told us that the new product is easy to use and very fast.
However some people found the installation process slow and confusing.
The support team will write a short guide to help new users.
We should also check the cost of our cloud hosting every week.
The finance team would like a clear report on travel spending.
Most of the money this year will go to hiring and training.
The new office will open in the spring if the building is ready.
Everyone should update the shared calendar with their holiday plans.
The product team will show the new features at the next meeting.
We agreed to delay the mobile release until the testing is complete.
A customer called yesterday to ask about the price for the premium plan.
She was happy with the service but hoped for a faster response time.
The sales director will visit our largest clients during the summer.
Our goal is to keep every customer happy and to reduce the number of complaints.
The engineering team fixed most of the problems found during the last review.
There are still a few issues with the search page that we need to solve.
The training sessions for new staff will start next Monday morning.
Please remember to submit your expense reports before Friday afternoon.
The board asked us to prepare a plan for the coming year.
We will share the draft with the whole team for comments.
The customer research found that people want better reports and charts.
We should talk to the design team about improving the main screen.
The travel budget is lower this year so we will plan trips carefully.
Our partners in the south want to sign a longer agreement.
The legal team is reviewing the contract and will reply next week.
We must make sure that all customer data is stored safely.
The security review found no serious problems in the new system.
The support line received fewer calls this month than last month.
That is a good sign that the recent changes are working.
The project is on schedule and the team is in good spirits.
We may need more people to finish the final stage on time.
The manager will decide on the new hires by the end of the week.
The next version of the product will load faster and look cleaner.
Some customers asked if they could pay for the whole year instead of every month.
The finance team thinks this is a good idea and will study the details.
We will run a small test with a group of loyal customers first.
We expect the test results before the summer.
Please keep the meeting notes short and clear so everyone can read them.
The team leaders will meet again on Thursday to check progress.
The warehouse is moving to a larger building near the main road.
This move should make deliveries faster and cheaper for our customers.
The shipping costs went up last quarter because of higher fuel prices.
We are looking for a new supplier who can offer better prices.
The quality team will visit the factory to check the new machines.
Our online store had more visitors than ever during the holiday season.
We want to improve the payment page so fewer people leave before paying.
The customer service team will get new chairs and better desks.
Everyone agreed that the office kitchen needs a new coffee machine.
The next team lunch will be at the small restaurant across the street.
Before we finish let us go over the action items one more time.
The design team will send the new screens by Wednesday.
The finance team will update the budget and share it with the board.
The new home page will launch after the testing team gives its approval.
Our main competitor lowered their prices so we must explain our value clearly.
The team asked for more time to write clear documentation.
We will hold a short workshop to share ideas for next year.
The customer success team will call new users during their first week.
Please tell your manager if you plan to work from home on Friday.
The new laptops for the design team will arrive next week.
We should reduce the number of meetings so people have more time to focus.
The sales team closed several large deals in the last few weeks.
Our new partner will help us reach customers in other countries.
The feedback from the pilot program has been very positive so far.
We will review the hiring plan again at the end of the quarter.
Thank you all for your hard work and have a great rest of the day.
EOF

TMP="$TMP" OUT="$OUT" SAMPLES="$ROOT/stack/src/voxledger/stack/samples" BENCH60_SENTENCES="$BENCH60_SENTENCES" \
    PYTHONPATH="$ROOT/scripts" uv run --project "$ROOT" python - <<'PY'
import os
import random
from pathlib import Path

import av
import numpy as np

TMP = Path(os.environ["TMP"])
OUT = Path(os.environ["OUT"])
from fixture_audio import RATE, load_16k, trim, write_wav, write_opus
PAUSE = np.zeros(int(0.35 * RATE), dtype=np.int16)  # between sentences
EDGE = np.zeros(int(0.25 * RATE), dtype=np.int16)   # leading / trailing






def clips(name: str) -> list[tuple[str, np.ndarray]]:
    out = []
    for wav in sorted((TMP / name).glob("*.wav")):
        text = wav.with_suffix(".txt").read_text().strip()
        out.append((text, trim(load_16k(wav))))
    return out


def join(items) -> tuple[str, np.ndarray]:
    text = " ".join(t for t, _ in items)
    pieces = [EDGE]
    for i, (_, a) in enumerate(items):
        if i:
            pieces.append(PAUSE)
        pieces.append(a)
    pieces.append(EDGE)
    return text, np.concatenate(pieces)






def write_text(path: Path, text: str) -> None:
    path.write_text(text + "\n")


# short_meeting.{wav,ogg}
text, pcm = join(clips("short"))
write_wav(OUT / "short_meeting.wav", pcm)
write_text(OUT / "short_meeting.txt", text)
write_opus(OUT / "short_meeting.ogg", pcm, 32000)
# The demo's sample ships inside the stack package: the same meeting.
(Path(os.environ["SAMPLES"]) / "meeting.ogg").write_bytes((OUT / "short_meeting.ogg").read_bytes())

# truncated.wav: first 40% of the bytes; the header still claims the full size.
data = (OUT / "short_meeting.wav").read_bytes()
(OUT / "truncated.wav").write_bytes(data[: int(len(data) * 0.4)])

# not_audio.bin: PDF-like header followed by seeded pseudo-random bytes.
header = b"%PDF-1.4\n%voxledger test fixture: this is not audio\n"
rng = random.Random(20240601)
(OUT / "not_audio.bin").write_bytes(
    header + bytes(rng.getrandbits(8) for _ in range(2048 - len(header))))

# empty.wav: zero bytes.
(OUT / "empty.wav").write_bytes(b"")

# bench_{60,300}s.ogg
bench = clips("bench")
n60 = int(os.environ["BENCH60_SENTENCES"])
for name, items in (("bench_60s", bench[:n60]), ("bench_300s", bench)):
    text, pcm = join(items)
    write_opus(OUT / f"{name}.ogg", pcm, 24000)
    write_text(OUT / f"{name}.txt", text)

for p in sorted(OUT.iterdir()):
    print(f"{p.name:24s} {p.stat().st_size:>9d} bytes")
PY
