"""Regenerate the multi-speaker fixtures under tests/fixtures/diarization/, each with its reference turns as RTTM.

- two_speakers.ogg    espeak-ng voices en-us and en-us+f3 taking turns, short gaps, one overlap (~40 s)
- three_speakers.ogg  en-us, en-us+f3 and en-us+m7, short gaps, one overlap (~50 s)
- recorded.ogg        two recorded voices (the sample conversation that the pyannote.audio wheel ships, MIT),
                      cut at the turns of its own RTTM into single-speaker pieces that alternate (~20 s)

The voices were picked by CAM++ similarity (scripts/export_diarization_onnx.py's model): most espeak-ng voices
sound alike to a speaker model, these three are the furthest apart. Requires espeak-ng and the project's uv
environment; the pyannote.audio wheel is fetched with pip (--no-deps) into a temporary folder. Usage:

    uv run python scripts/make_diarization_fixtures.py
"""

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_audio import RATE, load_16k, trim, write_opus  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/diarization"
VOICES = {"Tom": "en-us", "Ann": "en-us+f3", "Raj": "en-us+m7"}
GAP = 0.45  # seconds between turns
OVERLAP = 0.6  # the one overlapping turn starts this long before the previous one ends
PYANNOTE_WHEEL = "pyannote.audio==4.0.7"

TWO = [
    ("Tom", "Good morning, thanks for joining the call about the new office."),
    ("Ann", "Happy to be here. I read the plan you sent on Monday."),
    ("Tom", "Great. The move is planned for the first week of spring."),
    ("Ann", "That sounds early. Is the building ready by then?"),
    ("Tom", "The builders say it will be, but we keep a second date in reserve.", "overlap"),
    ("Ann", "Good. What about the network and the phones?"),
    ("Tom", "The network team starts next week, and the phones come last."),
    ("Ann", "Then let us meet again on Thursday to check progress."),
    ("Tom", "Thursday works for me. Thank you, Ann."),
]
THREE = [
    ("Tom", "Let us start with the budget for the next quarter."),
    ("Ann", "The finance team sent the numbers yesterday afternoon."),
    ("Raj", "I had a look. Travel costs went up again this month."),
    ("Tom", "Can we bring them down before the summer?"),
    ("Ann", "We could hold more meetings online instead of travelling."),
    ("Raj", "That would save about a third of the travel budget.", "overlap"),
    ("Tom", "Good. Raj, please write a short plan for that."),
    ("Raj", "I will send it to both of you by Friday."),
    ("Ann", "And I will update the budget sheet once it arrives."),
    ("Tom", "Thank you both. That is all for today."),
]
# Single-speaker stretches of the pyannote sample (seconds, from its sample.rttm with overlaps left out).
RECORDED = [
    ("Diane", 8.35, 9.92),
    ("Sheila", 14.70, 17.92),
    ("Diane", 11.03, 14.49),
    ("Sheila", 21.78, 24.02),
    ("Diane", 18.59, 21.49),
    ("Sheila", 24.02, 27.85),
    ("Diane", 28.50, 30.0),
]


def speak(voice: str, text: str, tmp: Path) -> np.ndarray:
    wav = tmp / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text], check=True)
    return trim(load_16k(wav))


def lay_out(pieces: list[tuple[str, np.ndarray, bool]]) -> tuple[np.ndarray, list[tuple[str, float, float]]]:
    """Place turns one after another with GAP between them; a turn marked overlap starts before the last ends."""
    starts, t = [], 0.5
    for _, pcm, overlap in pieces:
        if overlap and starts:
            t -= GAP + OVERLAP
        starts.append(t)
        t += len(pcm) / RATE + GAP
    mix = np.zeros(round((t + 0.5) * RATE), dtype=np.int32)
    turns = []
    for (speaker, pcm, _), start in zip(pieces, starts, strict=True):
        at = round(start * RATE)
        mix[at : at + len(pcm)] += pcm
        turns.append((speaker, at / RATE, (at + len(pcm)) / RATE))
    return np.clip(mix, -32768, 32767).astype(np.int16), turns


def write(name: str, pcm: np.ndarray, turns: list[tuple[str, float, float]]) -> None:
    write_opus(OUT / f"{name}.ogg", pcm, 24000)
    lines = [f"SPEAKER {name} 1 {s:.3f} {e - s:.3f} <NA> <NA> {who} <NA> <NA>" for who, s, e in turns]
    (OUT / f"{name}.rttm").write_text("\n".join(lines) + "\n")


def synthetic(name: str, script: list[tuple[str, ...]], tmp: Path) -> None:
    pieces = [(line[0], speak(VOICES[line[0]], line[1], tmp), len(line) > 2) for line in script]
    write(name, *lay_out(pieces))


def recorded(tmp: Path) -> None:
    subprocess.run(
        ["uv", "run", "--with", "pip", "pip", "download", PYANNOTE_WHEEL, "--no-deps", "-q", "-d", str(tmp)],
        check=True,
    )
    wheel = next(tmp.glob("pyannote_audio-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        (tmp / "sample.wav").write_bytes(z.read("pyannote/audio/sample/sample.wav"))
    source = load_16k(tmp / "sample.wav")
    pieces = [(who, source[round(s * RATE) : round(e * RATE)], False) for who, s, e in RECORDED]
    pcm, turns = lay_out(pieces)
    write("recorded", pcm, turns)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        synthetic("two_speakers", TWO, tmp)
        synthetic("three_speakers", THREE, tmp)
        recorded(tmp)
    for p in sorted(OUT.iterdir()):
        sys.stdout.write(f"{p.name:24s} {p.stat().st_size:>9d} bytes\n")


if __name__ == "__main__":
    main()
