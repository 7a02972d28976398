"""Diarization benchmark: accuracy on the project's multi-speaker fixtures, and what it adds to a job's compute.

- accuracy: DER (0.25 s collar, overlap scored; tests/der.py) and the speaker count found, per fixture, with the
  count estimated (the default `speakers=auto`). The insights meeting (tests/fixtures/insights) is listed too:
  two of its three espeak-ng voices are one speaker to CAM++ (the voices were not chosen for diarization).
- cost: a 5-minute two-speaker file (two_speakers.ogg repeated), transcription alone (faster-whisper, the
  transcriber's model and settings) against diarization alone, wall and CPU seconds, median of --repeats.

Run: `uv run just bench-diarization` (or `uv run python -m bench.diarization --repeats 3`). Prints two tables.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from faster_whisper import WhisperModel

from tests.der import Turn, read_rttm, score
from voxledger.runtime.settings import CommonSettings, load_settings, served_models
from voxledger.transcriber.adapters.audio import SAMPLE_RATE, decode
from voxledger.transcriber.adapters.diarizer import Diarizer
from voxledger.transcriber.adapters.model import resolve_model
from voxledger.transcriber.settings import TranscriberSettings

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
DIARIZATION = ["two_speakers", "three_speakers", "recorded"]
COST_SECONDS = 300.0


def meeting_reference() -> list[Turn]:
    timing = json.loads((FIXTURES / "insights" / "meeting_timing.json").read_text())
    return [(s["start"], s["end"], s["speaker"]) for s in timing["sentences"]]


def accuracy(diarizer: Diarizer) -> list[tuple[str, float, int, int, float, float]]:
    cases = [
        (n, FIXTURES / "diarization" / f"{n}.ogg", read_rttm(FIXTURES / "diarization" / f"{n}.rttm"))
        for n in DIARIZATION
    ]
    cases.append(("meeting (insights)", FIXTURES / "insights" / "meeting.ogg", meeting_reference()))
    rows = []
    for name, path, reference in cases:
        samples, duration = decode(path)
        start = time.perf_counter()
        turns = diarizer.diarize(samples)
        elapsed = time.perf_counter() - start
        result = score(reference, [(t.start, t.end, t.speaker) for t in turns])
        rows.append((name, result.der, result.ref_speakers, result.hyp_speakers, duration, elapsed))
    return rows


def timed(work) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def cost(diarizer: Diarizer, model: WhisperModel, repeats: int) -> tuple[float, float, float, float, float]:
    one, _ = decode(FIXTURES / "diarization" / "two_speakers.ogg")
    samples = np.tile(one, int(np.ceil(COST_SECONDS * SAMPLE_RATE / len(one))))[: int(COST_SECONDS * SAMPLE_RATE)]
    transcribe = lambda: list(model.transcribe(samples)[0])  # noqa: E731
    diarize = lambda: diarizer.diarize(samples)  # noqa: E731
    t_runs, d_runs = [], []
    for repeat in range(repeats):
        # Alternate which goes first, so drift on the machine hits both alike.
        for step in ("t", "d") if repeat % 2 == 0 else ("d", "t"):
            (t_runs if step == "t" else d_runs).append(timed(transcribe if step == "t" else diarize))
    t_wall, t_cpu = (statistics.median(x) for x in zip(*t_runs, strict=True))
    d_wall, d_cpu = (statistics.median(x) for x in zip(*d_runs, strict=True))
    return len(samples) / SAMPLE_RATE, t_wall, t_cpu, d_wall, d_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    settings = TranscriberSettings()
    target, _ = resolve_model(settings.model, served_models(load_settings(CommonSettings).served_models))
    model = WhisperModel(
        target, device=settings.device, compute_type=settings.compute_type, cpu_threads=settings.cpu_threads
    )
    diarizer = Diarizer()
    out = sys.stdout
    out.write("\ndiarization accuracy (speakers=auto; DER with a 0.25 s collar, overlap scored)\n\n")
    out.write(f"{'fixture':<20}{'DER':>8}{'speakers ref/found':>20}{'audio s':>10}{'diarize s':>11}\n")
    rows = accuracy(diarizer)
    for name, der, ref, hyp, duration, elapsed in rows:
        out.write(f"{name:<20}{der:>8.3f}{f'{ref}/{hyp}':>20}{duration:>10.1f}{elapsed:>11.2f}\n")
    right = sum(ref == hyp for _, _, ref, hyp, _, _ in rows)
    out.write(f"speaker count right on {right} of {len(rows)} fixtures\n")

    seconds, t_wall, t_cpu, d_wall, d_cpu = cost(diarizer, model, args.repeats)
    out.write(
        f"\ncost on a {seconds:.0f} s two-speaker file ({settings.model}, {settings.device}/{settings.compute_type}; "
        f"diarization on 1 thread; median of {args.repeats})\n\n"
    )
    out.write(f"{'':<16}{'wall s':>10}{'cpu s':>10}\n")
    out.write(f"{'transcription':<16}{t_wall:>10.2f}{t_cpu:>10.2f}\n")
    out.write(f"{'diarization':<16}{d_wall:>10.2f}{d_cpu:>10.2f}\n")
    out.write(f"diarization adds {d_cpu / t_cpu:.1%} CPU time and {d_wall / t_wall:.1%} wall time to transcription\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
