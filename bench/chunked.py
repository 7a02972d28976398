"""Chunked transcription: one long recording across one or two transcribers, and memory bounded by the chunk.

- scaling: a 10-minute speech file (bench_300s twice over), POST to `completed`, with ONE transcriber and
  with TWO (each cpu_threads 1, concurrency 1), both chunked, and unchunked on one; first, raw faster-whisper
  (batched, one thread) on the same file; speed-up and WER beside each, and the peak RSS of each
  transcriber's process tree (the service and its model child, psutil).
- memory: a 4-hour file, mostly silence with bench_60s spoken every 10 minutes (the batched decoder's VAD
  skips the silence, so it transcribes in minutes on two cores), chunked on two transcribers: the peak RSS
  of each transcriber's tree; beside it, what decoding that file whole (today's unchunked path) takes.

Run: `uv run just bench-chunked` (or `uv run python -m bench.chunked --chunk-s 30,60,120 --skip-4h`).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
import httpx
import numpy as np
import psutil

from bench.log import logged_events
from bench.proc_cpu import CpuMeter, machine_busy_s
from tests.helpers import AUDIO, new_client, reference, wait_job, wait_visible
from tests.wer import word_error_rate
from voxledger.stack.supervisor import Stack
from voxledger.transcriber.adapters.audio import SAMPLE_RATE, decode

MIB = 2**20
BASE_ENV = {"VOXLEDGER_CPU_THREADS": "1", "VOXLEDGER_CONCURRENCY": "1", "VOXLEDGER_MAX_AUDIO_DURATION_S": "20000"}


class Run(NamedTuple):
    label: str
    seconds: float
    wer: float | None
    chunks: int
    peak_mib: float
    idle_mib: float  # the tree before the upload: service and model child loaded, no job
    compute_s: float  # the chunks' own processing_s summed (the job's, unchunked)
    cpu_s: float  # CPU seconds the transcribers' trees used meanwhile
    others_cores: float  # cores the rest of the machine kept busy meanwhile (other work on a shared machine)
    timeline: "Timeline | None"  # where the wall time went, read from the event log (chunked runs)
    cpu_by_part: dict[str, float]  # CPU seconds per stack component meanwhile (bench/proc_cpu.py)


class Timeline(NamedTuple):
    """Seconds from the POST: the plan appended, the first chunk begun, the last chunk recorded, the job
    completed, the answer read; and the seconds the workers' lanes stood idle between the first chunk and
    the last (their sum over the lanes, the tail included)."""

    planned_s: float
    first_chunk_s: float
    last_chunk_s: float
    completed_s: float
    answered_s: float
    idle_s: float


def timeline(history: list, posted_at: datetime, answered_s: float, lanes: int) -> Timeline | None:
    """Each chunk's span is its ChunkTranscribed time back by its processing_s, laid on the first lane free."""

    def since(at: datetime) -> float:
        return (at - posted_at).total_seconds()

    kinds = {m.envelope.type: m for m in history}
    if "TranscriptionChunked" not in kinds:
        return None
    spans = sorted(
        (since(m.envelope.occurred_at) - m.body.processing_s, since(m.envelope.occurred_at))
        for m in history
        if m.envelope.type == "ChunkTranscribed"
    )
    first, last = spans[0][0], max(end for _, end in spans)
    free = [first] * lanes
    idle = 0.0
    for start, end in spans:
        lane = min(range(lanes), key=lambda i: free[i])
        idle += max(start - free[lane], 0.0)
        free[lane] = max(end, free[lane])
    idle += sum(last - f for f in free)
    return Timeline(
        since(kinds["TranscriptionChunked"].envelope.occurred_at),
        first,
        last,
        since(kinds["TranscriptionCompleted"].envelope.occurred_at),
        answered_s,
        idle,
    )


class TreePeak:
    """The highest RSS of each transcriber's process tree (the service and its model children), sampled."""

    def __init__(self, stack: Stack, every_s: float = 0.2):
        self._roots = [p.proc.pid for p in stack.processes if p.name == "transcriber"]
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every_s,), daemon=True)

    def __enter__(self) -> "TreePeak":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            for root in self._roots:
                self.peak_mib = max(self.peak_mib, tree_rss(root) / MIB)


def _tree(pid: int) -> list[psutil.Process]:
    """The process and its descendants; empty once it has exited."""
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_rss(pid: int) -> int:
    total = 0
    for proc in _tree(pid):
        with suppress(psutil.NoSuchProcess):
            total += proc.memory_info().rss
    return total


def tree_cpu_s(pid: int) -> float:
    total = 0.0
    for proc in _tree(pid):
        with suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def write_opus(path: Path, pieces: Iterator[np.ndarray], bit_rate: int = 16000) -> None:
    """Ogg/Opus from int16 pieces, encoded as they come: a 4-hour file never sits whole in memory."""
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=SAMPLE_RATE, layout="mono")
        stream.bit_rate = bit_rate
        pts = 0
        for piece in pieces:
            for start in range(0, len(piece), 4000):
                part = piece[start : start + 4000]
                frame = av.AudioFrame.from_ndarray(part.reshape(1, -1), format="s16", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, pts, Fraction(1, SAMPLE_RATE)
                pts += len(part)
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def pcm_of(name: str) -> np.ndarray:
    samples, _ = decode(AUDIO / name)
    return (samples * 32767).astype(np.int16)


def ten_minutes(workdir: Path) -> tuple[Path, str]:
    speech = pcm_of("bench_300s.ogg")
    path = workdir / "ten_minutes.ogg"
    write_opus(path, iter([speech, speech]), bit_rate=24000)
    text = reference("bench_300s.ogg")
    return path, f"{text} {text}"


def four_hours(workdir: Path, every_s: float = 600.0, hours: float = 4.0) -> tuple[Path, float]:
    """bench_60s at the start of every `every_s`, silence between; the speech's share of the length."""
    speech = pcm_of("bench_60s.ogg")
    gap = np.zeros(round(every_s * SAMPLE_RATE) - len(speech), dtype=np.int16)
    blocks = round(hours * 3600 / every_s)
    path = workdir / "four_hours.ogg"
    write_opus(path, (piece for _ in range(blocks) for piece in (speech, gap)))
    return path, len(speech) * blocks / SAMPLE_RATE


@contextmanager
def stack_with(workdir: Path, transcribers: int, env: dict[str, str]) -> Iterator[tuple[Stack, httpx.Client]]:
    data = Path(tempfile.mkdtemp(dir=workdir))
    full = {**BASE_ENV, **env}
    with (
        Stack(data, log_dir=data / "logs", scale={"transcriber": transcribers}, env=full) as stack,
        new_client(stack, "bench") as client,
    ):
        yield stack, client


def one_run(stack: Stack, client: httpx.Client, path: Path, said: str | None, label: str) -> Run:
    roots = [p.proc.pid for p in stack.processes if p.name == "transcriber"]
    idle_mib = max(tree_rss(pid) for pid in roots) / MIB
    cpu_before, (busy_before, _) = sum(tree_cpu_s(pid) for pid in roots), machine_busy_s()
    meter = CpuMeter()
    parts_before = meter.sample()
    with TreePeak(stack) as peak, path.open("rb") as f:
        started, posted_at = time.perf_counter(), datetime.now(UTC)
        response = client.post("/v1/recordings", files={"file": (path.name, f)}, timeout=300)
        assert response.status_code == 202, response.text
        accepted = response.json()
        job = wait_job(client, accepted["job_id"], timeout_s=3600)
        seconds = time.perf_counter() - started
    cpu_s = sum(tree_cpu_s(pid) for pid in roots) - cpu_before
    parts_after = meter.sample()
    cpu_by_part: dict[str, float] = {}
    for pid, total in parts_after.items():
        part = meter.labels.get(pid, "other")
        cpu_by_part[part] = cpu_by_part.get(part, 0.0) + total - parts_before.get(pid, 0.0)
    others = (machine_busy_s()[0] - busy_before - cpu_s) / seconds
    assert job["status"] == "completed", job
    wait_visible(client, f"/v1/recordings/{accepted['recording_id']}")
    history = logged_events(stack, accepted["recording_id"])
    text = " ".join(s.text for m in history if m.envelope.type == "SegmentsTranscribed" for s in m.body.segments)
    chunks = sum(len(m.body.chunks) for m in history if m.envelope.type == "TranscriptionChunked")
    wer = word_error_rate(said, text) if said is not None else None
    spent = [m.body.processing_s for m in history if m.envelope.type == "ChunkTranscribed"]
    compute_s = sum(spent) if spent else job["processing_s"]
    lanes = len(roots)
    return Run(
        label,
        seconds,
        wer,
        chunks,
        peak.peak_mib,
        idle_mib,
        compute_s,
        cpu_s,
        max(others, 0.0),
        timeline(history, posted_at, seconds, lanes),
        cpu_by_part,
    )


def scaling(workdir: Path, chunk_sizes: list[float], threshold_s: float, unchunked: bool = True) -> list[Run]:
    path, said = ten_minutes(workdir)
    runs = [raw_whole(path, said)]
    if unchunked:
        with stack_with(workdir, 1, {"VOXLEDGER_CHUNK_THRESHOLD_S": "0"}) as (stack, client):
            runs.append(one_run(stack, client, path, said, "unchunked, 1 transcriber"))
    for chunk_s in chunk_sizes:
        env = {"VOXLEDGER_CHUNK_THRESHOLD_S": str(threshold_s), "VOXLEDGER_CHUNK_S": str(chunk_s)}
        for n in (1, 2):
            with stack_with(workdir, n, env) as (stack, client):
                runs.append(one_run(stack, client, path, said, f"chunks of {chunk_s:g} s, {n} transcriber(s)"))
    return runs


RAW_WHOLE = """
import json
import resource
import sys
import time
from pathlib import Path
from faster_whisper import BatchedInferencePipeline, WhisperModel
from voxledger.transcriber.adapters.audio import decode
from voxledger.transcriber.adapters.model import ModelCache
model = ModelCache("cpu", "int8", 1, False).get("tiny.en")  # one thread, BLAS included, as a transcriber's
idle_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
before = resource.getrusage(resource.RUSAGE_SELF)
start = time.perf_counter()
samples, _ = decode(Path(sys.argv[1]), max_duration_s=20000)
segments, _ = BatchedInferencePipeline(model).transcribe(samples, batch_size=int(sys.argv[2]))
text = " ".join(s.text for s in segments)
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF)
cpu_s = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
print(json.dumps({"seconds": seconds, "cpu_s": cpu_s, "text": text, "idle_kib": idle_kib, "peak_kib": after.ru_maxrss}))
"""


def raw_whole(path: Path, said: str, batch_size: int = 8) -> Run:
    """faster-whisper alone on the whole file, batched as the transcriber's default, in a process of its own
    with one thread: decode and transcribe (the model loaded first), its WER, CPU and RSS."""
    done = subprocess.run(
        [sys.executable, "-c", RAW_WHOLE, str(path), str(batch_size)], capture_output=True, text=True, check=True
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    seconds, idle_mib, peak_mib = out["seconds"], out["idle_kib"] / 1024, out["peak_kib"] / 1024
    wer = word_error_rate(said, out["text"])
    label = f"raw faster-whisper, batched {batch_size}"
    return Run(label, seconds, wer, 0, peak_mib, idle_mib, seconds, out["cpu_s"], 0.0, None, {})


DECODE_WHOLE = """
import subprocess
import sys
from pathlib import Path
from voxledger.transcriber.adapters.audio import decode
decode(Path(sys.argv[1]), max_duration_s=20000)
print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
"""


def whole_decode_peak_mib(path: Path) -> float:
    """Today's unchunked path decodes the file whole: the peak RSS (VmHWM) of a process doing only that."""
    done = subprocess.run([sys.executable, "-c", DECODE_WHOLE, str(path)], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1]) * 1024 / MIB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--chunk-s", default="45,60", help="comma-separated chunk lengths to compare (the 4 h file: the first)"
    )
    parser.add_argument("--threshold-s", type=float, default=300.0, help="chunked above this length (seconds)")
    parser.add_argument("--skip-4h", action="store_true")
    parser.add_argument("--skip-10min", action="store_true")
    parser.add_argument("--skip-unchunked", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="voxledger-bench-chunked-") as tmp:
        workdir = Path(tmp)
        if not args.skip_4h:
            path, speech_s = four_hours(workdir)
            env = {
                "VOXLEDGER_CHUNK_THRESHOLD_S": str(args.threshold_s),
                "VOXLEDGER_CHUNK_S": args.chunk_s.split(",")[0],
            }
            with stack_with(workdir, 2, env) as (stack, client):
                run = one_run(stack, client, path, None, "4 h (mostly silence), 2 transcribers")
            print_memory(run, speech_s, path.stat().st_size / MIB)
            print(f"{'unchunked: decoding it whole, no model':<40} {'-':>8} {'-':>7} {'-':>7} {'-':>13}", end=" ")
            print(f"{whole_decode_peak_mib(path):13.0f}", flush=True)
        if not args.skip_10min:
            sizes = [float(c) for c in args.chunk_s.split(",")]
            runs = scaling(workdir, sizes, args.threshold_s, unchunked=not args.skip_unchunked)
            print_scaling(runs)
    return 0


def print_scaling(runs: list[Run]) -> None:
    print("\n10-minute file (bench_300s twice), POST -> completed, cpu_threads 1 per transcriber")
    print(
        f"{'run':<34} {'wall s':>8} {'speed-up':>9} {'WER':>7} {'chunks':>7} {'compute s':>10} {'CPU s':>6}"
        f" {'others':>7} {'idle RSS MiB':>13} {'peak RSS MiB':>13}"
    )
    base: dict[float, float] = {}
    for run in runs:
        key = run.chunks
        if "1 transcriber" in run.label:
            base[key] = run.seconds
        speedup = base.get(key, run.seconds) / run.seconds
        wer = f"{run.wer:.3f}" if run.wer is not None else "-"
        line = (
            f"{run.label:<34} {run.seconds:8.1f} {speedup:8.2f}x {wer:>7} {run.chunks:7d} {run.compute_s:10.1f}"
            f" {run.cpu_s:6.1f} {run.others_cores:7.2f} {run.idle_mib:13.0f} {run.peak_mib:13.0f}"
        )
        print(line)
    print("(speed-up: against one transcriber with the same chunks; compute: the chunks' processing_s summed;")
    print(" CPU: the transcribers' CPU seconds; others: cores the rest of the machine used meanwhile;")
    print(" RSS: of one transcriber's process tree, the service and its model child)")
    print_timelines(runs)


def print_timelines(runs: list[Run]) -> None:
    """Where each chunked run's wall time went, and which component used the CPU meanwhile."""
    timed = [run for run in runs if run.timeline is not None]
    if not timed:
        return
    print("\nTimeline, seconds from the POST (idle: the lanes' idle time between first and last chunk, summed)")
    print(
        f"{'run':<34} {'planned':>8} {'1st chunk':>9} {'last chunk':>10} {'completed':>9} {'answered':>8} {'idle':>6}"
    )
    for run in timed:
        t = run.timeline
        assert t is not None
        print(
            f"{run.label:<34} {t.planned_s:8.2f} {t.first_chunk_s:9.2f} {t.last_chunk_s:10.2f}"
            f" {t.completed_s:9.2f} {t.answered_s:8.2f} {t.idle_s:6.2f}"
        )
    parts = sorted({part for run in timed for part in run.cpu_by_part}, key=lambda p: -timed[-1].cpu_by_part.get(p, 0))
    print("\nCPU seconds per component meanwhile")
    print(f"{'run':<34} " + " ".join(f"{part[:11]:>11}" for part in parts))
    for run in timed:
        print(f"{run.label:<34} " + " ".join(f"{run.cpu_by_part.get(part, 0.0):11.1f}" for part in parts))


def print_memory(run: Run, speech_s: float, size_mib: float) -> None:
    print(f"\n4-hour file ({size_mib:.0f} MiB Ogg/Opus; {speech_s / 60:.0f} min of speech, the rest silence)")
    print(f"{'run':<40} {'wall s':>8} {'chunks':>7} {'CPU s':>7} {'idle RSS MiB':>13} {'peak RSS MiB':>13}")
    print(
        f"{run.label:<40} {run.seconds:8.1f} {run.chunks:7d} {run.cpu_s:7.1f} {run.idle_mib:13.0f} {run.peak_mib:13.0f}"
    )


if __name__ == "__main__":
    sys.exit(main())
