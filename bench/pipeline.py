"""Pipeline benchmark: voxledger end to end against raw faster-whisper on the same files, in one run.

- overhead: POST /v1/recordings -> job `completed` in the read model, divided by raw
  faster-whisper (decode + transcribe, model already loaded, same model and settings).
- latency: 202 -> job visible as `queued`, and 202 -> first progress event.

Run: `uv run just bench` (or `uv run python -m bench.pipeline --repeats 3`). Prints a table.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
from faster_whisper import WhisperModel
from httpx_sse import connect_sse

from tests.helpers import AUDIO, new_client
from voxledger.stack.supervisor import Stack
from voxledger.transcriber.adapters.audio import decode
from voxledger.transcriber.adapters.model import resolve_model
from voxledger.transcriber.settings import TranscriberSettings

FILES = ("bench_60s.ogg", "bench_300s.ogg")
# CTranslate2's worker threads keep spinning briefly after a run; let them idle so runs don't overlap.
SETTLE_S = 2.0


def raw_seconds(model: WhisperModel, path: Path) -> float:
    """What faster-whisper alone needs: decode the file and run the model over it."""
    start = time.perf_counter()
    samples, _ = decode(path)
    segments, _ = model.transcribe(samples)
    list(segments)
    return time.perf_counter() - start


def pipeline_seconds(client: httpx.Client, path: Path) -> tuple[float, float]:
    """POST to `completed` visible in the read model, as a client sees it; and the worker's own share."""
    start = time.perf_counter()
    with path.open("rb") as f:
        accepted = client.post("/v1/recordings", files={"file": (path.name, f)})
    accepted.raise_for_status()
    body = accepted.json()
    last_seq = follow_until_done(client, body["recording_id"], body["job_id"])
    job = client.get(f"/v1/jobs/{body['job_id']}", params={"min_seq": last_seq}).json()
    elapsed = time.perf_counter() - start
    assert job["status"] == "completed", job
    return elapsed, job["processing_s"]


def follow_until_done(client: httpx.Client, recording_id: str, job_id: str) -> str:
    with connect_sse(client, "GET", f"/v1/recordings/{recording_id}/events", timeout=httpx.Timeout(30, read=600)) as es:
        for sse in es.iter_sse():
            if sse.event in ("TranscriptionCompleted", "TranscriptionFailed") and job_id in sse.data:
                return sse.id
    raise RuntimeError("event stream ended early")


def latencies(client: httpx.Client, path: Path, runs: int) -> tuple[list[float], list[float]]:
    to_queued, to_progress = [], []
    for _ in range(runs):
        with path.open("rb") as f:
            accepted = client.post("/v1/recordings", files={"file": (path.name, f)})
        accepted_at = time.time()
        body = accepted.json()
        while client.get(f"/v1/jobs/{body['job_id']}").json()["status"] not in ("queued", "running", "completed"):
            pass
        to_queued.append(time.time() - accepted_at)
        with connect_sse(client, "GET", body["links"]["events"], timeout=httpx.Timeout(30, read=120)) as es:
            for sse in es.iter_sse():
                if sse.event == "TranscriptionProgressed" and len(to_progress) < len(to_queued):
                    occurred = datetime.fromisoformat(json.loads(sse.data)["occurred_at"]).timestamp()
                    to_progress.append(occurred - accepted_at)
                if sse.event == "TranscriptionCompleted":
                    break
    return to_queued, to_progress


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(values) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   (n={len(values)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--latency-runs", type=int, default=10)
    args = parser.parse_args()

    settings = TranscriberSettings()
    target, _ = resolve_model(settings.model)
    model = WhisperModel(
        target, device=settings.device, compute_type=settings.compute_type, cpu_threads=settings.cpu_threads
    )
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="voxledger-bench-") as tmp,
        Stack(Path(tmp), log_dir=Path(tmp) / "logs") as stack,
        new_client(stack, "bench") as client,
    ):
        client.timeout = httpx.Timeout(60, read=600)
        pipeline_seconds(client, AUDIO / "short_meeting.ogg")  # warm both paths once
        raw_seconds(model, AUDIO / "short_meeting.ogg")
        for name in FILES:
            raws, pipes, outside = [], [], []
            for repeat in range(args.repeats):
                # Alternate which goes first, so drift on the machine hits both alike.
                for step in ("raw", "pipeline") if repeat % 2 == 0 else ("pipeline", "raw"):
                    if step == "raw":
                        raws.append(raw_seconds(model, AUDIO / name))
                    else:
                        elapsed, worker_s = pipeline_seconds(client, AUDIO / name)
                        pipes.append(elapsed)
                        outside.append(elapsed - worker_s)
                    time.sleep(SETTLE_S)
            raw, pipe = statistics.median(raws), statistics.median(pipes)
            rows.append((name, raw, pipe, pipe / raw, statistics.median(outside)))
        queued, progress = latencies(client, AUDIO / "short_meeting.ogg", args.latency_runs)

    out = sys.stdout
    out.write(
        f"\nvoxledger pipeline vs raw faster-whisper ({settings.model}, {settings.device}/{settings.compute_type}, "
        f"median of {args.repeats})\n\n"
    )
    out.write(f"{'file':<18}{'raw s':>10}{'pipeline s':>12}{'ratio':>8}{'outside worker ms':>20}\n")
    for name, raw, pipe, ratio, outside in rows:
        out.write(f"{name:<18}{raw:>10.2f}{pipe:>12.2f}{ratio:>8.3f}{outside * 1000:>20.0f}\n")
    out.write(
        "(outside worker: end to end minus the worker's own processing_s: upload, queueing, projection, notification)\n"
    )
    out.write(f"\n202 -> job visible as queued:    {ms(queued)}\n")
    out.write(f"202 -> first progress event:     {ms(progress)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
