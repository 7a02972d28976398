"""Projector throughput: events applied per second, checkpoint included, on a realistic mix.

The mix is whole recording histories built with the real contracts: uploads, transcription
requests, starts, progress, segment batches, completions, retries, cancels, failures,
insight runs and deletions. They are published to a real EVENTS stream first; then the
projector's own loop (decode, project, fold, set-based write, checkpoint) applies them all.
A second run measures latency under light load: one event at a time, publish to visible.

With `--poison N`, N events Postgres cannot store (a NUL in a filename) are spread through the backlog:
each costs the split of its batch, and the table shows what that does to the rate.

Run: `uv run python -m bench.projector_throughput [--events 200000] [--poison 0]`. Prints a table.
"""

import argparse
import asyncio
import os
import sys
import time

from bench.readmodel_stack import bench_stack, events_up_to, percentile, wait_checkpoint
from tests.helpers import stack_vault
from tests.histories import append_all
from voxledger.contracts import events as ev
from voxledger.contracts.envelope import encode, seal
from voxledger.contracts.ids import new_id
from voxledger.projector.follow import run_projection
from voxledger.projector.settings import ProjectorSettings
from voxledger.runtime.broker import connect
from voxledger.runtime.db import create_pool


async def publish_backlog(js, events: int, poison: int) -> int:
    backlog = list(events_up_to(events))
    step = len(backlog) // (poison + 1) or 1
    published = 0
    for i in range(0, len(backlog), step):
        published += await append_all(js, backlog[i : i + step], in_flight=1024)
        if poison and i // step < poison:
            rid = new_id()
            bad = ev.RecordingUploaded(
                filename="x\x00.ogg", content_type="audio/ogg", size_bytes=1, blob_digest="d", blob_key="k"
            )
            await js.publish(
                f"vl.evt.rec.{rid}.RecordingUploaded", encode(seal(bad, aggregate_id=rid, tenant_id="bench"))
            )
            published += 1
    return published


async def measure(stack, events: int, single: int, batch_max: int, poison: int = 0) -> dict:
    nc = await connect(stack.nats_as("provision"), "bench")
    js = nc.jetstream()
    pool = await create_pool(stack.database_url, max_size=4)
    try:
        published = await publish_backlog(js, events, poison)
        head = (await js.stream_info("EVENTS")).state.last_seq
        stop = asyncio.Event()
        started = time.perf_counter()
        projector = asyncio.create_task(run_projection(js, pool, batch_max, stop, await stack_vault(nc, stack)))
        await wait_checkpoint(pool, head, poll_s=0.01)
        elapsed = time.perf_counter() - started
        latencies = []
        for h in events_up_to(single, seed=99, tenant="light"):
            for message in h.messages:
                sent = time.perf_counter()
                ack = await js.publish(f"vl.evt.rec.{h.recording_id}.{message.envelope.type}", encode(message))
                await wait_checkpoint(pool, ack.seq)
                latencies.append((time.perf_counter() - sent) * 1000)
        stop.set()
        await projector
        return {"events": published, "seconds": elapsed, "latencies": latencies}
    finally:
        await pool.close()
        await nc.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--single", type=int, default=300, help="events published one at a time for the latency row")
    parser.add_argument("--batch-max", type=int, default=ProjectorSettings().batch_max)
    parser.add_argument(
        "--poison", type=int, default=0, help="events Postgres cannot store, spread through the backlog"
    )
    args = parser.parse_args()
    with bench_stack() as stack:
        result = asyncio.run(measure(stack, args.events, args.single, args.batch_max, args.poison))
    rate = result["events"] / result["seconds"]
    lat = result["latencies"]
    out = sys.stdout
    out.write(
        f"\nprojector throughput, {result['events']} events of whole recording histories, batch_max {args.batch_max}, "
        f"{args.poison} poison\n\n"
    )
    out.write(f"{'events':>10}{'seconds':>10}{'events/s':>12}{'light-load visible p50 ms':>28}{'p99 ms':>9}\n")
    out.write(
        f"{result['events']:>10}{result['seconds']:>10.2f}{rate:>12.0f}{percentile(lat, 50):>28.2f}{percentile(lat, 99):>9.2f}\n"
    )
    out.write(
        "\n(target: >= 20,000 events/s including the checkpoint; light load: an event is visible within a few ms)\n"
    )
    out.write(f"(1-minute load average {os.getloadavg()[0]:.1f} on 2 cores)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
