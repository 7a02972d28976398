"""What decoding read-model records into the contract's rows costs on a hot read: a 1,000-segment transcript.

Times, over a real PostgreSQL, the query alone (asyncpg records, as the gateway read them before rows were
typed) against the query with the records decoded into SegmentRow, and each with the segment view the
transcript endpoint builds. `uv run python -m bench.readside_decode [segments] [rounds]`
"""

import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

import msgspec

from bench.readmodel_stack import percentile
from voxledger.contracts import events
from voxledger.contracts.readmodels import SegmentRow
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.schemas import segment_view
from voxledger.projector.adapters.schema import migrate
from voxledger.runtime.db import create_pool
from voxledger.stack.embedded import PostgresServer
from voxledger.stack.secrets import Secrets

SQL = f"SELECT {SegmentRow.columns()} FROM segments WHERE tenant_id = $1 AND job_id = $2 ORDER BY idx"
TENANT = "bench"


async def _fill(pool, job_id: str, count: int) -> None:
    words = [[i * 0.1, i * 0.1 + 0.1, f" w{i}", 0.9] for i in range(12)]  # as the projector stores a Word
    rows = [
        (job_id, i, str(uuid.uuid4()), TENANT, i * 2.0, i * 2.0 + 1.9, f"segment {i} " * 8, -0.2, 0.01, words)
        for i in range(count)
    ]
    await pool.executemany(
        """INSERT INTO segments (job_id, idx, recording_id, tenant_id, start_s, end_s, text, avg_logprob,
                                 no_speech_prob, words) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        rows,
    )


async def _medians(reads: dict, rounds: int) -> dict[str, float]:
    """Each read's median over `rounds`, in milliseconds; the reads take turns, so a busy moment hits all alike."""
    took: dict[str, list[float]] = {name: [] for name in reads}
    for _ in range(rounds + 1):  # the first round warms up
        for name, read in reads.items():
            start = time.perf_counter()
            await read()
            took[name].append((time.perf_counter() - start) * 1000)
    return {name: percentile(times[1:], 50) for name, times in took.items()}


async def _measure(dsn: str, count: int, rounds: int) -> dict[str, float]:
    pool = await create_pool(dsn)
    try:
        await migrate(pool)
        job_id = str(uuid.uuid4())
        await _fill(pool, job_id, count)
        readmodels = ReadModels(pool)

        async def records():
            return await pool.fetch(SQL, TENANT, job_id)

        async def rows():
            return await readmodels.transcripts.segments(TENANT, job_id)

        async def records_viewed():  # what the transcript handler did before: the view read each record by key
            return [_record_view(r) for r in await records()]

        async def rows_viewed():
            return [segment_view(r) for r in await rows()]

        return await _medians(
            {"records": records, "rows": rows, "records_viewed": records_viewed, "rows_viewed": rows_viewed}, rounds
        )
    finally:
        await pool.close()


def _record_view(record) -> events.Segment:
    """The segment view as it was before rows were typed: the baseline."""
    return events.Segment(
        index=record["idx"],
        start=record["start_s"],
        end=record["end_s"],
        text=record["text"],
        avg_logprob=record["avg_logprob"],
        no_speech_prob=record["no_speech_prob"],
        words=msgspec.convert(record["words"], list[events.Word]) if record["words"] else None,
    )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    with tempfile.TemporaryDirectory(prefix="voxledger-bench-") as tmp:
        secrets = Secrets(Path(tmp) / "secrets").ensure()
        server = PostgresServer(Path(tmp) / "pg", secrets).start()
        try:
            medians = asyncio.run(_measure(server.owner_dsn, count, rounds))
        finally:
            server.stop()
    for name, ms in medians.items():
        sys.stdout.write(f"{name:<16}{ms:8.2f} ms (median of {rounds}, {count} segments)\n")


if __name__ == "__main__":
    main()
