"""What crypto-shredding costs: projector throughput and one job's end-to-end time, with and without sealing.

- projector: the same whole-recording histories (uploads, segment batches, insights, deletions) published to a
  stack without workers, once sealed with per-recording data keys (AES-256-GCM, keys created in the `data_keys`
  bucket) and once in clear; then the projector's own loop applies them all. With sealing it also looks up each
  batch's data keys (one KV get per recording, then the LRU cache) and opens every sealed event.
- job: POST /v1/recordings to `completed` in the read model for one file, on a full stack, median of
  `--repeats`, with VOXLEDGER_ENCRYPTION on and off (the setting exists for this benchmark only).
- cipher: the cost of sealing and opening one event of each sealed type, measured directly.

Run: `uv run just bench-encryption` (or `uv run python -m bench.encryption --events 50000 --repeats 3`).
"""

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.pipeline import pipeline_seconds
from bench.readmodel_stack import NO_WORKERS, events_up_to, wait_checkpoint
from tests.helpers import AUDIO, new_client, stack_vault
from voxledger.contracts import envelope, sealing, subjects
from voxledger.projector.follow import run_projection
from voxledger.runtime.broker import connect
from voxledger.runtime.crypto import DataCipher
from voxledger.runtime.db import create_pool
from voxledger.stack.supervisor import Stack

OFF = {"VOXLEDGER_ENCRYPTION": "false"}


@contextlib.contextmanager
def stack_with(env: dict[str, str], scale: dict[str, int] | None = None) -> Iterator[Stack]:
    with tempfile.TemporaryDirectory(prefix="voxledger-bench-") as tmp:
        data = Path(tmp)
        with Stack(data, log_dir=data / "logs", scale=scale, env=env) as stack:
            yield stack


async def _publish(js, vault, events: int) -> tuple[int, int]:
    """The backlog through the vault (sealed, or clear with encryption off): (events, of them sealed types)."""
    pending: set[asyncio.Task] = set()
    count = sealed = 0
    for h in events_up_to(events):
        for message in h.messages:
            subject = subjects.event_subject(subjects.RECORDING, h.recording_id, message.envelope.type)
            headers = {"Nats-Msg-Id": message.envelope.event_id}
            payload = await vault.encode(message)
            pending.add(asyncio.create_task(js.publish(subject, payload, headers=headers)))
            count += 1
            sealed += message.envelope.type in sealing.SEALED_FIELDS
            if len(pending) >= 1024:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
    for task in pending:
        await task
    return count, sealed


async def projector_rate(stack: Stack, events: int, batch_max: int) -> tuple[int, int, float]:
    """(events, sealed-type events, seconds the projector took to apply them all)."""
    nc = await connect(stack.nats_as("provision"), "bench")
    js = nc.jetstream()
    pool = await create_pool(stack.database_url, max_size=4)
    try:
        vault = await stack_vault(nc, stack)
        count, sealed = await _publish(js, vault, events)
        head = (await js.stream_info("EVENTS")).state.last_seq
        stop = asyncio.Event()
        started = time.perf_counter()
        projector = asyncio.create_task(run_projection(js, pool, batch_max, stop, await stack_vault(nc, stack)))
        await wait_checkpoint(pool, head, poll_s=0.01)
        elapsed = time.perf_counter() - started
        stop.set()
        await projector
        return count, sealed, elapsed
    finally:
        await pool.close()
        await nc.close()


def job_seconds(env: dict[str, str], repeats: int, name: str) -> float:
    with stack_with(env) as stack, new_client(stack, "bench") as client:
        client.timeout = httpx.Timeout(60, read=600)
        pipeline_seconds(client, AUDIO / "short_meeting.ogg")  # warm the paths once
        return statistics.median(pipeline_seconds(client, AUDIO / name)[0] for _ in range(repeats))


def cipher_micros(rounds: int = 2000) -> dict[str, tuple[float, float]]:
    """Per sealed type: microseconds to encode+decode one event, clear and sealed (no IO: the key is at hand)."""
    cipher = DataCipher(DataCipher.new_key())
    samples = {}
    for h in events_up_to(5000):
        for m in h.messages:
            samples.setdefault(m.envelope.type, m)
    costs = {}
    for kind in sealing.SEALED_FIELDS:
        if (message := samples.get(kind)) is None:
            continue
        timed = []
        for key in (None, cipher):
            start = time.perf_counter()
            for _ in range(rounds):
                envelope.decode(envelope.encode(message, key), lambda _, k=key: k)
            timed.append((time.perf_counter() - start) / rounds * 1e6)
        costs[kind] = (timed[0], timed[1])
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch-max", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3, help="jobs per setting for the end-to-end row")
    parser.add_argument("--file", default="bench_60s.ogg", help="the job's fixture")
    parser.add_argument("--no-job", action="store_true", help="skip the end-to-end rows (two full stacks)")
    args = parser.parse_args()
    rates = {}
    for label, env in (("sealed", {}), ("clear", OFF)):
        with stack_with(env, NO_WORKERS) as stack:
            rates[label] = asyncio.run(projector_rate(stack, args.events, args.batch_max))
    jobs = (
        {}
        if args.no_job
        else {label: job_seconds(env, args.repeats, args.file) for label, env in (("sealed", {}), ("clear", OFF))}
    )
    _report(args, rates, jobs, cipher_micros())
    return 0


def _report(args, rates: dict, jobs: dict, micros: dict) -> None:
    out = sys.stdout
    count, sealed, _ = rates["sealed"]
    out.write(
        f"\nencryption cost: projector over {count} events ({sealed} of sealed types), batch_max {args.batch_max}\n\n"
    )
    out.write(f"{'':<24}{'sealed':>12}{'clear':>12}{'cost':>10}\n")
    per_s = {label: r[0] / r[2] for label, r in rates.items()}
    out.write(f"{'projector events/s':<24}{per_s['sealed']:>12.0f}{per_s['clear']:>12.0f}")
    out.write(f"{(1 - per_s['sealed'] / per_s['clear']) * 100:>9.1f}%\n")
    if jobs:
        out.write(f"{f'job s ({args.file})':<24}{jobs['sealed']:>12.2f}{jobs['clear']:>12.2f}")
        out.write(f"{(jobs['sealed'] / jobs['clear'] - 1) * 100:>9.1f}%\n")
    out.write("\nencode+decode of one event, microseconds (no IO):\n")
    for kind, (clear, sealed_us) in micros.items():
        out.write(f"  {kind:<22}{sealed_us:>8.1f} sealed {clear:>8.1f} clear\n")
    out.write(f"\n(1-minute load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n")


if __name__ == "__main__":
    raise SystemExit(main())
