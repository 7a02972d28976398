"""Pipeline benchmark: voxledger end to end against raw faster-whisper on the same files, in one run.

- modes: sequential decoding (`batch_size` 1) and batched decoding (the transcriber's default batch size),
  each raw (faster-whisper's `WhisperModel.transcribe` / its own `BatchedInferencePipeline` with its
  defaults) and through the pipeline, with the WER of each against the fixture's known text.
- overhead: POST /v1/recordings -> job `completed` in the read model, divided by raw
  faster-whisper in the same mode (decode + transcribe, model already loaded, same model and settings).
- latency: 202 -> job visible as `queued`, and 202 -> first progress event.
- batched decoding in process, on the same model: faster-whisper's pipeline in one call (as the transcriber
  did before it decoded in growing groups, adapters/batched.py) against the transcriber's own `transcribe`:
  time, CPU, WER, when the first segment came and the longest wait between two.

Run: `uv run just bench` (or `uv run python -m bench.pipeline --repeats 3`). Prints a table.
"""

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import httpx
from faster_whisper import BatchedInferencePipeline, WhisperModel
from httpx_sse import connect_sse

from tests.helpers import AUDIO, new_client, reference
from tests.wer import word_error_rate
from voxledger.contracts.events import TranscriptionOptions
from voxledger.runtime.settings import served_models
from voxledger.stack.supervisor import Stack
from voxledger.transcriber.adapters.audio import decode
from voxledger.transcriber.adapters.model import (
    BATCHED_VAD,
    cut_into_sentences,
    resolve_model,
    temperatures,
    transcribe,
)
from voxledger.transcriber.settings import TranscriberSettings

FILES = ("bench_60s.ogg", "bench_300s.ogg")
# CTranslate2's worker threads keep spinning briefly after a run; let them idle so runs don't overlap.
SETTLE_S = 2.0


class Run(NamedTuple):
    seconds: float
    wer: float
    worker_s: float = 0.0


def raw_run(model: WhisperModel, path: Path, batch_size: int) -> Run:
    """What faster-whisper alone needs: decode the file and run the model over it."""
    start = time.perf_counter()
    samples, _ = decode(path)
    if batch_size > 1:
        segments, _ = BatchedInferencePipeline(model).transcribe(samples, batch_size=batch_size)
    else:
        segments, _ = model.transcribe(samples)
    text = " ".join(s.text for s in segments)
    return Run(time.perf_counter() - start, word_error_rate(reference(path.name), text))


class Decode(NamedTuple):
    seconds: float
    cpu_s: float
    wer: float
    first_s: float
    longest_wait_s: float


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def decode_run(model: WhisperModel, samples, name: str, batch_size: int, grouped: bool) -> Decode:
    """Batched decoding as the transcriber does it (`grouped`), or as it did before: one call to the pipeline."""
    start, cpu = time.perf_counter(), _cpu_s()
    if grouped:
        _, _, segments = transcribe(model, samples, TranscriptionOptions(batch_size=batch_size), 0.0, 0)
    else:
        raw, _ = BatchedInferencePipeline(model).transcribe(
            samples,
            batch_size=batch_size,
            word_timestamps=True,
            vad_parameters=BATCHED_VAD,
            temperature=temperatures(None),
        )
        segments = cut_into_sentences(raw, keep_words=False)
    arrivals, texts = [start], []
    for segment in segments:
        arrivals.append(time.perf_counter())
        texts.append(segment.text)
    seconds, cpu_s = time.perf_counter() - start, _cpu_s() - cpu
    waits = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    return Decode(seconds, cpu_s, word_error_rate(reference(name), " ".join(texts)), waits[0], max(waits))


def compare_decoding(model: WhisperModel, name: str, batch_size: int, repeats: int) -> dict[str, list[Decode]]:
    samples, _ = decode(AUDIO / name)
    runs: dict[str, list[Decode]] = {"one call (before)": [], "grouped (now)": []}
    for repeat in range(repeats):
        for label in list(runs) if repeat % 2 == 0 else list(runs)[::-1]:
            runs[label].append(decode_run(model, samples, name, batch_size, grouped=label.startswith("grouped")))
            time.sleep(SETTLE_S)
    return runs


def pipeline_run(client: httpx.Client, path: Path, batch_size: int | None = None) -> Run:
    """POST to `completed` visible in the read model, as a client sees it; and the worker's own share.
    `batch_size` None: the transcriber's default."""
    fields = {} if batch_size is None else {"batch_size": str(batch_size)}
    start = time.perf_counter()
    with path.open("rb") as f:
        accepted = client.post("/v1/recordings", files={"file": (path.name, f)}, data=fields)
    accepted.raise_for_status()
    body = accepted.json()
    last_seq = follow_until_done(client, body["recording_id"], body["job_id"])
    job = client.get(f"/v1/jobs/{body['job_id']}", params={"min_seq": last_seq}).json()
    elapsed = time.perf_counter() - start
    assert job["status"] == "completed", job
    text = client.get(f"/v1/recordings/{body['recording_id']}/transcript", params={"format": "txt"}).text
    return Run(elapsed, word_error_rate(reference(path.name), text), job["processing_s"])


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


def measure(model: WhisperModel, client: httpx.Client, name: str, batch_size: int, repeats: int) -> tuple:
    raws: list[Run] = []
    pipes: list[Run] = []
    for repeat in range(repeats):
        # Alternate which goes first, so drift on the machine hits both alike.
        for step in ("raw", "pipeline") if repeat % 2 == 0 else ("pipeline", "raw"):
            if step == "raw":
                raws.append(raw_run(model, AUDIO / name, batch_size))
            else:
                pipes.append(pipeline_run(client, AUDIO / name, batch_size))
            time.sleep(SETTLE_S)
    raw = statistics.median(r.seconds for r in raws)
    pipe = statistics.median(p.seconds for p in pipes)
    outside = statistics.median(p.seconds - p.worker_s for p in pipes)
    return raw, raws[-1].wer, pipe, pipes[-1].wer, pipe / raw, outside


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--latency-runs", type=int, default=10)
    parser.add_argument("--files", nargs="+", default=FILES, choices=FILES)
    args = parser.parse_args()

    settings = TranscriberSettings()
    target, _ = resolve_model(settings.model, served_models(settings.served_models))
    model = WhisperModel(
        target, device=settings.device, compute_type=settings.compute_type, cpu_threads=settings.cpu_threads
    )
    modes = {"sequential": 1, f"batched {settings.batch_size}": settings.batch_size}
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="voxledger-bench-") as tmp,
        Stack(Path(tmp), log_dir=Path(tmp) / "logs") as stack,
        new_client(stack, "bench") as client,
    ):
        client.timeout = httpx.Timeout(60, read=600)
        for batch_size in modes.values():  # warm both paths in each mode once
            pipeline_run(client, AUDIO / "short_meeting.ogg", batch_size)
            raw_run(model, AUDIO / "short_meeting.ogg", batch_size)
        for name in args.files:
            by_mode = {mode: measure(model, client, name, size, args.repeats) for mode, size in modes.items()}
            today = by_mode["sequential"][2]
            rows += [(name, mode, *figures, today / figures[2]) for mode, figures in by_mode.items()]
        queued, progress = latencies(client, AUDIO / "short_meeting.ogg", args.latency_runs)
    decoding = {name: compare_decoding(model, name, settings.batch_size, args.repeats) for name in args.files}

    out = sys.stdout
    out.write(
        f"\nvoxledger pipeline vs raw faster-whisper ({settings.model}, {settings.device}/{settings.compute_type}, "
        f"median of {args.repeats})\n\n"
    )
    out.write(
        f"{'file':<16}{'mode':<12}{'raw s':>8}{'raw WER':>9}{'pipeline s':>12}{'WER':>7}{'ratio':>7}"
        f"{'speed-up':>10}{'outside ms':>12}\n"
    )
    for name, mode, raw, raw_wer, pipe, pipe_wer, ratio, outside, speedup in rows:
        out.write(
            f"{name:<16}{mode:<12}{raw:>8.2f}{raw_wer:>8.1%}{pipe:>12.2f}{pipe_wer:>7.1%}{ratio:>7.3f}"
            f"{speedup:>9.2f}x{outside * 1000:>12.0f}\n"
        )
    out.write(
        "(ratio: pipeline / raw in the same mode; speed-up: the sequential pipeline's time / this mode's;\n"
        " raw batched is faster-whisper's BatchedInferencePipeline with its own defaults; outside: end to end\n"
        " minus the worker's processing_s: upload, queueing, projection, notification)\n"
    )
    out.write(f"\n202 -> job visible as queued:    {ms(queued)}\n")
    out.write(f"202 -> first progress event:     {ms(progress)}\n")
    write_decoding(out, decoding, settings.batch_size)
    return 0


def write_decoding(out, decoding: dict[str, dict[str, list[Decode]]], batch_size: int) -> None:
    out.write(f"\nbatched decoding in process (batch_size {batch_size}, word times, sentences; median)\n\n")
    out.write(f"{'file':<16}{'how':<20}{'s':>7}{'CPU s':>8}{'WER':>7}{'first segment s':>17}{'longest wait s':>16}\n")
    for name, runs in decoding.items():
        for label, decodes in runs.items():
            med = Decode(*(statistics.median(column) for column in zip(*decodes, strict=True)))
            out.write(
                f"{name:<16}{label:<20}{med.seconds:>7.2f}{med.cpu_s:>8.2f}{med.wer:>6.1%}"
                f"{med.first_s:>17.2f}{med.longest_wait_s:>16.2f}\n"
            )


if __name__ == "__main__":
    raise SystemExit(main())
