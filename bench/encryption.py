"""What crypto-shredding costs: projector throughput and one job's end-to-end time, with and without sealing.

- Two full stacks side by side, one with VOXLEDGER_ENCRYPTION on and one off (the setting exists for this
  benchmark only); rounds alternate between them.
- projector: the same whole-recording histories (uploads, segment batches, insights, deletions) published to
  each, sealed with per-recording data keys (AES-256-GCM, created in the `data_keys` bucket) or in clear; then
  a full replay (the projector's own decode, project and write, plus the shadow swap). With sealing it also
  fetches each batch's data keys (one KV get per recording, then the LRU cache) and opens every sealed event.
- job: POST /v1/recordings to `completed` in the read model for one file.
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

from bench.pipeline import pipeline_run
from bench.readmodel_stack import events_up_to, wait_checkpoint
from tests.helpers import AUDIO, new_client, stack_vault
from voxledger.contracts import envelope, sealing, subjects
from voxledger.projector.replay import replay
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


async def publish_backlog(stack: Stack, events: int) -> tuple[int, int]:
    nc = await connect(stack.nats_as("provision"), "bench")
    try:
        return await _publish(nc.jetstream(), await stack_vault(nc, stack), events)
    finally:
        await nc.close()


async def replay_seconds(stack: Stack, batch_max: int) -> tuple[float, float]:
    """One full replay of the read models (decode, open, project, write, swap): its wall seconds, and the CPU
    seconds of this process (the projector's own share; Postgres does the same work either way). A fresh
    vault, so its data keys are fetched as a projector starting up fetches them."""
    nc = await connect(stack.nats_as("provision"), "bench")
    pool = await create_pool(stack.database_url, max_size=4)
    try:
        js = nc.jetstream()
        await wait_checkpoint(pool, (await js.stream_info("EVENTS")).state.last_seq, poll_s=0.05)
        cpu = time.process_time()
        report = await replay(js, pool, await stack_vault(nc, stack), batch_max=batch_max)
        return report.seconds, time.process_time() - cpu
    finally:
        await pool.close()
        await nc.close()


def job_seconds(stack: Stack, name: str) -> float:
    with new_client(stack, "bench") as client:
        client.timeout = httpx.Timeout(60, read=600)
        return pipeline_run(client, AUDIO / name).seconds


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
    parser.add_argument("--batch-max", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3, help="rounds of each measurement per setting")
    parser.add_argument("--file", default="bench_60s.ogg", help="the job's fixture")
    args = parser.parse_args()
    replays: dict[str, list[tuple[float, float]]] = {"sealed": [], "clear": []}
    jobs: dict[str, list[float]] = {"sealed": [], "clear": []}
    with stack_with({}) as sealed, stack_with(OFF) as clear:
        stacks = {"sealed": sealed, "clear": clear}
        counts = {label: asyncio.run(publish_backlog(stack, args.events)) for label, stack in stacks.items()}
        for stack in stacks.values():
            job_seconds(stack, "short_meeting.ogg")  # warm each path once
        # Rounds alternate between the settings, so drift on the machine hits both alike.
        for round_ in range(args.repeats):
            for label in ("sealed", "clear") if round_ % 2 == 0 else ("clear", "sealed"):
                replays[label].append(asyncio.run(replay_seconds(stacks[label], args.batch_max)))
                jobs[label].append(job_seconds(stacks[label], args.file))
    _report(args, counts["sealed"], replays, jobs, cipher_micros())
    return 0


def _report(args, counts: tuple[int, int], replays: dict, jobs: dict, micros: dict) -> None:
    out = sys.stdout
    count, sealed = counts
    out.write(f"\nencryption cost, median of {args.repeats} alternating rounds per setting\n\n")
    out.write(f"{'':<34}{'sealed':>10}{'clear':>10}{'cost':>9}\n")
    for what, index in (("wall", 0), ("CPU", 1)):
        rate = {label: count / statistics.median(r[index] for r in runs) for label, runs in replays.items()}
        out.write(f"{f'projector events/{what}-s ({sealed / count:.0%} sealed)':<34}")
        out.write(f"{rate['sealed']:>10.0f}{rate['clear']:>10.0f}{(1 - rate['sealed'] / rate['clear']) * 100:>8.1f}%\n")
    job = {label: statistics.median(seconds) for label, seconds in jobs.items()}
    out.write(f"{f'one job, POST to completed ({args.file})':<34}{job['sealed']:>9.2f}s{job['clear']:>9.2f}s")
    out.write(f"{(job['sealed'] / job['clear'] - 1) * 100:>8.1f}%\n")
    out.write(f"\n(projector: a full replay of {count} events of whole recording histories, data keys fetched cold;")
    out.write(" CPU: the projecting process's own CPU time, which the machine's other load does not inflate)\n")
    out.write("encode+decode of one event, microseconds (no IO: the key at hand):\n")
    for kind, (clear_us, sealed_us) in micros.items():
        out.write(f"  {kind:<22}{sealed_us:>8.1f} sealed {clear_us:>8.1f} clear\n")
    out.write(f"\n(1-minute load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n")


if __name__ == "__main__":
    raise SystemExit(main())
