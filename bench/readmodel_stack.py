"""What the read-model benchmarks share: a stack without workers, a history of N events, percentiles."""

import asyncio
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.histories import History, histories
from voxledger.stack.supervisor import Stack

NO_WORKERS = {"projector": 0, "transcriber": 0, "postproc": 0}


@contextlib.contextmanager
def bench_stack(scale: dict[str, int] | None = None) -> Iterator[Stack]:
    with tempfile.TemporaryDirectory(prefix="voxledger-bench-") as tmp:
        data = Path(tmp)
        with Stack(data, log_dir=data / "logs", scale=scale if scale is not None else NO_WORKERS) as stack:
            yield stack


def events_up_to(limit: int, seed: int = 1, tenant: str = "bench", **shape) -> Iterator[History]:
    """Whole recording histories until about `limit` events."""
    count = 0
    for h in histories(seed, tenant, 10**9, **shape):
        if count >= limit:
            return
        count += len(h.messages)
        yield h


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def wait_checkpoint(pool, seq: int, name: str = "read_models", poll_s: float = 0.001) -> None:
    while (await pool.fetchval("SELECT last_seq FROM projection_checkpoints WHERE name = $1", name) or 0) < seq:
        await asyncio.sleep(poll_s)
