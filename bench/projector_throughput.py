"""Projector throughput: events applied per second, checkpoint included, on a realistic mix.

The mix is whole recording histories built with the real contracts: uploads, transcription
requests, starts, progress, segment batches, completions, retries, cancels, failures,
insight runs and deletions. They are published to a real EVENTS stream first; then the
projector's own loop (decode, project, fold, set-based write, checkpoint) applies them all.
A second run measures latency under light load: one event at a time, publish to visible.

Run: `uv run python -m bench.projector_throughput [--events 200000]`. Prints a table.
"""

import argparse
import asyncio
import os
import sys
import time

from bench.readmodel_stack import bench_stack, events_up_to, percentile, wait_checkpoint
from tests.histories import append_all
from voxledger.contracts.envelope import encode
from voxledger.projector.handlers import run_projection
from voxledger.projector.settings import ProjectorSettings
from voxledger.runtime.broker import connect
from voxledger.runtime.db import create_pool


async def measure(stack, events: int, single: int, batch_max: int) -> dict:
    nc = await connect(stack.nats_url, "bench")
    js = nc.jetstream()
    pool = await create_pool(stack.database_url, max_size=4)
    try:
        published = await append_all(js, events_up_to(events), in_flight=1024)
        head = (await js.stream_info("EVENTS")).state.last_seq
        stop = asyncio.Event()
        started = time.perf_counter()
        projector = asyncio.create_task(run_projection(js, pool, batch_max, stop))
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
    args = parser.parse_args()
    with bench_stack() as stack:
        result = asyncio.run(measure(stack, args.events, args.single, args.batch_max))
    rate = result["events"] / result["seconds"]
    lat = result["latencies"]
    out = sys.stdout
    out.write(f"\nprojector throughput, {result['events']} events of whole recording histories, batch_max {args.batch_max}\n\n")
    out.write(f"{'events':>10}{'seconds':>10}{'events/s':>12}{'light-load visible p50 ms':>28}{'p99 ms':>9}\n")
    out.write(f"{result['events']:>10}{result['seconds']:>10.2f}{rate:>12.0f}{percentile(lat, 50):>28.2f}{percentile(lat, 99):>9.2f}\n")
    out.write("\n(target: >= 20,000 events/s including the checkpoint; light load: an event is visible within a few ms)\n")
    out.write(f"(1-minute load average {os.getloadavg()[0]:.1f} on 2 cores)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
