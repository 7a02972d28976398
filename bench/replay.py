"""Full replay: rebuild the read models from 1,000,000 events into shadow tables and swap them in.

The events are whole recording histories built with the real contracts and published
to a real EVENTS stream. The timed part is `voxledger replay`'s own code: read the
stream from sequence 1, project, write set-based batches, build the secondary and
search indexes, then swap the tables atomically.

Run: `uv run python -m bench.replay [--events 1000000]`. Prints a table.
"""

import argparse
import asyncio
import os
import sys
import time

from bench.readmodel_stack import bench_stack, events_up_to
from tests.helpers import stack_vault
from tests.histories import append_all
from voxledger.projector.adapters.shadow import digest
from voxledger.projector.replay import replay
from voxledger.runtime.broker import connect
from voxledger.runtime.db import create_pool


async def measure(stack, events: int, batch_max: int) -> dict:
    nc = await connect(stack.nats_as("provision"), "bench")
    js = nc.jetstream()
    pool = await create_pool(stack.database_url, max_size=4)
    try:
        started = time.perf_counter()
        published = await append_all(js, events_up_to(events), in_flight=1024)
        publish_s = time.perf_counter() - started
        report = await replay(js, pool, await stack_vault(nc, stack), batch_max=batch_max)
        rows = await digest(pool)
        return {"events": published, "publish_s": publish_s, "replay": report, "rows": rows}
    finally:
        await pool.close()
        await nc.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch-max", type=int, default=20_000)
    args = parser.parse_args()
    with bench_stack() as stack:
        result = asyncio.run(measure(stack, args.events, args.batch_max))
    report = result["replay"]
    rows = result["rows"]
    out = sys.stdout
    out.write(
        f"\nfull replay into shadow tables and swap, {result['events']} events (published in {result['publish_s']:.0f} s)\n\n"
    )
    out.write(
        f"{'events':>10}{'replay s':>10}{'events/s':>10}{'recordings':>12}{'jobs':>9}{'segments':>10}{'load avg':>10}\n"
    )
    out.write(
        f"{report.events:>10}{report.seconds:>10.1f}{report.events / report.seconds:>10.0f}{rows['recordings'][0]:>12}"
        f"{rows['jobs'][0]:>9}{rows['segments'][0]:>10}{os.getloadavg()[0]:>10.1f}\n"
    )
    out.write(
        "\n(target: 1,000,000 events in <= 60 s; load avg: the machine's 1-minute load while it ran, on 2 cores)\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
