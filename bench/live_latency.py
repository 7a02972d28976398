"""Live transcription: latency, capacity and accuracy on one live worker (tiny.en unless VOXLEDGER_MODEL says otherwise).

- latency: from when a word is spoken (its end in the audio, which is sent at real-time pace) to its
  first interim and to its final, p50 and p95 over the words of the finals (word times from the log).
- capacity: N concurrent real-time sessions on one worker; a level is sustained while the final
  latency stays bounded (p95 <= 10 s) and each session ends soon after its stop (<= 10 s).
- accuracy: WER of the streamed finals against the fixture's text, beside a batch run of the same model.

Run: `uv run python -m bench.live_latency [--sessions 1,2,3] [--capacity-seconds 30]`. Prints tables.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.log import logged_events
from tests.helpers import AUDIO, new_client, word_error_rate
from tests.live_client import LiveRun, stream, ws_url
from voxledger.contracts.events import TranscriptionOptions
from voxledger.stack.supervisor import Stack
from voxledger.transcriber.adapters.audio import decode
from voxledger.transcriber.adapters.model import ModelCache, transcribe

FILE = "bench_60s.ogg"
RATE = 16_000


def pcm_of(path: Path, seconds: float | None = None) -> bytes:
    samples, _ = decode(path)
    if seconds is not None:
        samples = samples[: int(seconds * RATE)]
    return (samples * 32767).astype("<i2").tobytes()


def latencies(stack, run: LiveRun) -> tuple[list[float], list[float]]:
    """(to first interim, to final) per word of the finals, in seconds after the word was spoken."""
    words = [
        w
        for m in logged_events(stack, run.session_id)
        if m.envelope.type == "SegmentsTranscribed"
        for s in m.body.segments
        for w in (s.words or [])
    ]
    first_seen: list[float] = []
    final_at: list[float] = []
    finals_words = 0
    for at, message in run.messages:
        if message["type"] not in ("interim", "final"):
            continue
        shown = finals_words + len(message["text"].split())
        while len(first_seen) < min(shown, len(words)):
            first_seen.append(at)
        if message["type"] == "final":
            finals_words = shown
            while len(final_at) < min(finals_words, len(words)):
                final_at.append(at)
    to_interim = [at - w.end for at, w in zip(first_seen, words, strict=False)]
    to_final = [at - w.end for at, w in zip(final_at, words, strict=False)]
    return to_interim, to_final


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


async def concurrent(stack, api_key: str, pcm: bytes, n: int) -> list[tuple[LiveRun, float]]:
    """n sessions at once; each with the seconds from its stop to its end."""

    async def one() -> tuple[LiveRun, float]:
        run = await stream(ws_url(stack), api_key, pcm, RATE)
        stopped_at = len(pcm) / 2 / RATE
        return run, run.messages[-1][0] - stopped_at

    return await asyncio.gather(*(one() for _ in range(n)))


def batch_wer(path: Path, reference: str) -> float:
    model = ModelCache("cpu", "int8", 0, False).get("tiny.en")
    samples, _ = decode(path)
    _, _, segments = transcribe(model, samples, TranscriptionOptions(language="en"), 0.0, 0)
    return word_error_rate(reference, " ".join(s.text for s in segments))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", default="1,2,3", help="concurrency levels for the capacity table")
    parser.add_argument("--capacity-seconds", type=float, default=30.0, help="audio per session in the capacity runs")
    args = parser.parse_args()
    levels = [int(n) for n in args.sessions.split(",")]
    path = AUDIO / FILE
    reference = path.with_suffix(".txt").read_text()
    env = {"VOXLEDGER_LIVE_MAX_SESSIONS": str(max(levels))}
    out = sys.stdout
    with tempfile.TemporaryDirectory(prefix="voxledger-bench-") as tmp:
        data = Path(tmp)
        scale = {"live": 1, "transcriber": 0, "postproc": 0}
        with Stack(data, log_dir=data / "logs", scale=scale, env=env) as stack, new_client(stack, "bench") as client:
            api_key = client.headers["Authorization"].split()[1]
            full = asyncio.run(concurrent(stack, api_key, pcm_of(path), 1))[0][0]
            to_interim, to_final = latencies(stack, full)
            live_wer = word_error_rate(reference, " ".join(f["text"] for f in full.finals))
            capacity = []
            for n in levels:
                t0 = time.monotonic()
                runs = asyncio.run(concurrent(stack, api_key, pcm_of(path, args.capacity_seconds), n))
                finals = [x for run, _ in runs for x in latencies(stack, run)[1]]
                capacity.append(
                    (n, pct(finals, 50), pct(finals, 95), max(lag for _, lag in runs), time.monotonic() - t0)
                )
    offline = batch_wer(path, reference)
    out.write(f"\nlive latency, {FILE} streamed at real-time pace, one session, {len(to_final)} words\n\n")
    out.write(f"{'':>10}{'p50 s':>8}{'p95 s':>8}{'target p50':>12}\n")
    out.write(f"{'interim':>10}{pct(to_interim, 50):>8.2f}{pct(to_interim, 95):>8.2f}{'<= 1.0':>12}\n")
    out.write(f"{'final':>10}{pct(to_final, 50):>8.2f}{pct(to_final, 95):>8.2f}{'<= 3.0':>12}\n")
    out.write(f"\ncapacity, one worker, {args.capacity_seconds:.0f} s of audio per session\n\n")
    out.write(f"{'sessions':>9}{'final p50 s':>13}{'final p95 s':>13}{'end lag s':>11}{'sustained':>11}\n")
    for n, p50, p95, lag, _ in capacity:
        sustained = "yes" if p95 <= 10 and lag <= 10 else "no"
        out.write(f"{n:>9}{p50:>13.2f}{p95:>13.2f}{lag:>11.2f}{sustained:>11}\n")
    out.write(
        f"\naccuracy, {FILE}: streaming WER {live_wer:.1%}, batch WER {offline:.1%} "
        f"(ratio {live_wer / offline if offline else float('nan'):.2f}; target <= 1.25)\n"
    )
    out.write(f"(median of {statistics.median([len(r.finals) for r in [full]])} finals per session)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
