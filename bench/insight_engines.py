"""Built-in insight engines on a 1-hour transcript: seconds per engine.

The transcript is the scripted meeting's real Whisper transcript (tests/fixtures/insights/meeting_transcript.json)
repeated with shifted times until it covers the target length, each copy varied a little so that it is not
the same text over and over: some segments get fillers or a stutter, and the names and numbers change.

Run: `uv run python -m bench.insight_engines` (options: --minutes, --repeats). Prints a table.
"""

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

from voxledger.contracts.insights import INSIGHT_KINDS, TranscriptLine
from voxledger.postproc.domain.engines import BUILTIN_ENGINES

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "insights" / "meeting_transcript.json"
NAMES = [("Maria", "Tom", "Sarah", "David"), ("Priya", "Ben", "Ana", "Marcus"), ("Lena", "Raj", "Kim", "Jordan")]
DAYS = ("Wednesday", "Friday", "Monday", "Thursday", "Tuesday")
GAP_S = 3.0  # silence between two copies of the meeting


def vary(text: str, copy: int, index: int) -> str:
    for old, new in zip(NAMES[0], NAMES[copy % len(NAMES)], strict=True):
        text = text.replace(old, new)
    text = text.replace("Wednesday", DAYS[copy % len(DAYS)]).replace("three", str(3 + copy % 7))
    if (index + copy) % 7 == 0:
        text = "Um, " + text[:1].lower() + text[1:]
    if (index + copy) % 11 == 0:
        first, _, rest = text.partition(" ")
        text = f"{first} {first.lower()} {rest}"
    return text


def hour_transcript(minutes: float) -> tuple[list[TranscriptLine], float]:
    base = json.loads(FIXTURE.read_text())
    period = base[-1]["end"] + GAP_S
    copies = max(1, math.ceil(minutes * 60 / period))
    lines = [
        TranscriptLine(
            index=copy * len(base) + row["index"],
            start=round(copy * period + row["start"], 3),
            end=round(copy * period + row["end"], 3),
            text=vary(row["text"], copy, row["index"]),
        )
        for copy in range(copies)
        for row in base
    ]
    return lines, copies * period


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0, help="transcript length (default 60)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per engine; the median is reported")
    args = parser.parse_args()

    lines, duration = hour_transcript(args.minutes)
    words = sum(len(line.text.split()) for line in lines)
    rows = []
    for kind in INSIGHT_KINDS:
        engine = BUILTIN_ENGINES[kind]
        engine(lines, duration, ())  # warm: regex compilation, imports
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            engine(lines, duration, ())
            times.append(time.perf_counter() - start)
        rows.append((kind, statistics.median(times), max(times)))

    out = sys.stdout
    out.write(
        f"\nbuilt-in insight engines on a {duration / 60:.1f}-minute transcript "
        f"({len(lines)} segments, {words} words), median of {args.repeats}\n\n"
    )
    out.write(f"{'engine':<14}{'median s':>10}{'max s':>10}\n")
    for kind, median, worst in rows:
        out.write(f"{kind:<14}{median:>10.3f}{worst:>10.3f}\n")
    out.write(f"{'all four':<14}{sum(r[1] for r in rows):>10.3f}{'':>10}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
