"""Queries against the read models, one class per responsibility: recordings, jobs (and the queue), transcripts
(segments, insights, search), live sessions, usage (what the quotas count) and the gateway's own operations
(keys, command effects, schema, projections). `ReadModels` holds one of each on the pool: handlers get it
injected and name the part (`readmodels.jobs.get(tenant, job_id)`). Every tenant's query is scoped to it."""

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

import asyncpg
import msgspec

from voxledger.contracts.readmodels import (
    QUARANTINE_TABLE,
    InsightRow,
    JobRow,
    LiveSessionRow,
    ProjectionRow,
    QueuedJobRow,
    RecordingRow,
    SearchHitRow,
    SegmentRow,
    is_live_checkpoint,
)
from voxledger.gateway.domain.keys import KeyInfo
from voxledger.gateway.domain.queue import Queued, QueueState

R = TypeVar("R", bound=msgspec.Struct)
RECORDING_COLUMNS = RecordingRow.columns()
JOB_COLUMNS = JobRow.columns()
LIVE_SESSION_COLUMNS = LiveSessionRow.columns()


def decode_row(record: asyncpg.Record, row_type: type[R]) -> R:
    """One record as the contract's row: a column missing, or of another type than the contract says, raises."""
    return msgspec.convert(dict(record), row_type)


def decode_optional(record: asyncpg.Record | None, row_type: type[R]) -> R | None:
    return None if record is None else decode_row(record, row_type)


def decode_rows(records: Iterable[asyncpg.Record], row_type: type[R]) -> list[R]:
    return [msgspec.convert(dict(record), row_type) for record in records]


class RecordingReads:
    """The tenant's recordings, and the jobs of one."""

    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def get(self, tenant: str, recording_id: str) -> RecordingRow | None:
        sql = f"SELECT {RECORDING_COLUMNS} FROM recordings WHERE tenant_id = $1 AND recording_id = $2"
        return decode_optional(await self.pool.fetchrow(sql, tenant, recording_id), RecordingRow)

    async def page(
        self,
        tenant: str,
        limit: int,
        before: str | None,
        status: str | None,
        created_after: datetime | None = None,
        *,
        tag: str | None = None,
        folder: str | None = None,
    ) -> list[RecordingRow]:
        records = await self.pool.fetch(
            f"""SELECT {RECORDING_COLUMNS} FROM recordings
                WHERE tenant_id = $1 AND ($2::uuid IS NULL OR recording_id < $2::uuid)
                  AND ($3::text IS NULL OR status = $3)
                  AND ($5::timestamptz IS NULL OR created_at > $5)
                  AND ($6::text IS NULL OR tags @> jsonb_build_array($6::text))
                  AND ($7::text IS NULL OR folder = $7)
                ORDER BY recording_id DESC LIMIT $4""",
            tenant,
            before,
            status,
            limit,
            created_after,
            tag,
            folder,
        )
        return decode_rows(records, RecordingRow)

    async def created_before(self, tenant: str, cutoff: datetime, limit: int) -> list[str]:
        """The tenant's recordings older than `cutoff`, oldest first: those retention deletes."""
        sql = """SELECT recording_id::text FROM recordings
                 WHERE tenant_id = $1 AND created_at < $2 ORDER BY created_at LIMIT $3"""
        return [recording_id for (recording_id,) in await self.pool.fetch(sql, tenant, cutoff, limit)]

    async def jobs_of(self, tenant: str, recording_id: str) -> list[JobRow]:
        sql = f"SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1 AND recording_id = $2 ORDER BY job_id DESC"
        return decode_rows(await self.pool.fetch(sql, tenant, recording_id), JobRow)


class JobReads:
    """Jobs: one, a page, the active ones, and the queue they wait in."""

    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def get(self, tenant: str, job_id: str) -> JobRow | None:
        sql = f"SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1 AND job_id = $2"
        return decode_optional(await self.pool.fetchrow(sql, tenant, job_id), JobRow)

    async def page(
        self, tenant: str, limit: int, before: str | None, status: str | None, created_after: datetime | None
    ) -> list[JobRow]:
        """The tenant's jobs, newest first; job ids are UUIDv7, so the keyset is stable under inserts."""
        records = await self.pool.fetch(
            f"""SELECT {JOB_COLUMNS} FROM jobs
                WHERE tenant_id = $1 AND ($2::uuid IS NULL OR job_id < $2::uuid)
                  AND ($3::text IS NULL OR status = $3)
                  AND ($5::timestamptz IS NULL OR created_at > $5)
                ORDER BY job_id DESC LIMIT $4""",
            tenant,
            before,
            status,
            limit,
            created_after,
        )
        return decode_rows(records, JobRow)

    async def latest_completed_job(self, tenant: str, recording_id: str) -> JobRow | None:
        sql = f"""SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1 AND recording_id = $2 AND status = 'completed'
                  ORDER BY job_id DESC LIMIT 1"""
        return decode_optional(await self.pool.fetchrow(sql, tenant, recording_id), JobRow)

    async def active_jobs(self, tenant: str) -> list[JobRow]:
        """The tenant's queued and running jobs, oldest first."""
        sql = f"""SELECT {JOB_COLUMNS} FROM jobs j
                  WHERE j.tenant_id = $1 AND j.status IN ('queued', 'running') ORDER BY j.job_id"""
        return decode_rows(await self.pool.fetch(sql, tenant), JobRow)

    async def queue_state(self) -> QueueState:
        """What queue positions and ETAs come from (domain/queue.py), in one snapshot. Queued jobs with an
        attempt behind them are not in the fair queue: their retry was already dispatched (WORK)."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            queued = decode_rows(
                await conn.fetch(f"SELECT {QueuedJobRow.columns()} FROM jobs WHERE status = 'queued' AND attempt = 0"),
                QueuedJobRow,
            )
            last = await conn.fetch(
                """SELECT tenant_id, extract(epoch FROM max(started_at))::float8 AS at FROM jobs
                   WHERE tenant_id = ANY($1::text[]) AND started_at IS NOT NULL GROUP BY tenant_id""",
                list({r.tenant_id for r in queued}),
            )
            running = await conn.fetch("SELECT eta_s FROM jobs WHERE status = 'running'")
            typical = await conn.fetchval(
                """SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY processing_s) FROM (
                       SELECT processing_s FROM jobs WHERE status = 'completed' AND processing_s IS NOT NULL
                       ORDER BY finished_at DESC LIMIT 20) AS recent"""
            )
        return QueueState(
            queued=[Queued(r.job_id, r.tenant_id, r.priority, (r.queued_seq or 0, r.job_id)) for r in queued],
            last_start=dict(last),
            running_left_s=[eta_s for (eta_s,) in running],
            typical_s=typical,
        )


class TranscriptReads:
    """What a job produced: its segments and insights, and the full-text search over every transcript."""

    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def segments(self, tenant: str, job_id: str) -> list[SegmentRow]:
        sql = f"SELECT {SegmentRow.columns()} FROM segments WHERE tenant_id = $1 AND job_id = $2 ORDER BY idx"
        return decode_rows(await self.pool.fetch(sql, tenant, job_id), SegmentRow)

    async def insights(self, tenant: str, job_id: str) -> list[InsightRow]:
        sql = f"SELECT {InsightRow.columns()} FROM insights WHERE tenant_id = $1 AND job_id = $2 ORDER BY kind"
        return decode_rows(await self.pool.fetch(sql, tenant, job_id), InsightRow)

    async def search(
        self, tenant: str, query: str, prefixes: list[str], limit: int, offset: int, speaker: str | None = None
    ) -> list[SearchHitRow]:
        """Segments of each recording's newest completed transcript that match, best first, with a snippet;
        with `speaker`, only segments that speaker speaks in (a label, or a name given to it or to a label
        merged into it)."""
        records = await self.pool.fetch(
            """WITH q AS (
                   SELECT CASE WHEN $2 = '' THEN NULL ELSE websearch_to_tsquery('english', $2) END AS web,
                          CASE WHEN cardinality($3::text[]) = 0 THEN NULL
                               ELSE to_tsquery('english', array_to_string($3::text[], ' & ')) END AS prefix
               ), query AS (
                   SELECT CASE WHEN web IS NULL THEN prefix WHEN prefix IS NULL THEN web ELSE web && prefix END AS tsq
                   FROM q
               ), hits AS (
                   SELECT s.recording_id, s.job_id, s.idx, s.start_s, s.end_s, s.text, r.filename,
                          ts_rank_cd(s.search, query.tsq) AS rank, query.tsq
                   FROM segments s CROSS JOIN query
                   JOIN recordings r ON r.recording_id = s.recording_id AND r.transcript_job_id = s.job_id
                   WHERE s.search @@ query.tsq AND s.tenant_id = $1 AND r.tenant_id = $1
                     AND ($6::text IS NULL OR EXISTS (
                         SELECT 1 FROM jobs j, jsonb_array_elements(j.speaker_turns) t
                         WHERE j.job_id = s.job_id AND (t->>0)::float8 < s.end_s AND (t->>1)::float8 > s.start_s
                           AND $6 IN (t->>2, j.speaker_names->>(t->>2), j.speaker_names->>(j.speaker_names->>(t->>2)))))
                   ORDER BY rank DESC, s.recording_id DESC, s.job_id, s.idx
                   LIMIT $4 OFFSET $5
               )
               SELECT recording_id, job_id, idx, start_s, end_s, filename, rank, text,
                      ts_headline('english', text, tsq, 'StartSel=<mark>, StopSel=</mark>, MaxWords=24, MinWords=8') AS snippet
               FROM hits ORDER BY rank DESC, recording_id DESC, job_id, idx""",
            tenant,
            query,
            prefixes,
            limit,
            offset,
            speaker,
        )
        return decode_rows(records, SearchHitRow)


class LiveSessionReads:
    """Live sessions."""

    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def page(self, tenant: str, limit: int, before: str | None) -> list[LiveSessionRow]:
        records = await self.pool.fetch(
            f"""SELECT {LIVE_SESSION_COLUMNS} FROM live_sessions
                WHERE tenant_id = $1 AND ($2::uuid IS NULL OR session_id < $2::uuid)
                ORDER BY session_id DESC LIMIT $3""",
            tenant,
            before,
            limit,
        )
        return decode_rows(records, LiveSessionRow)

    async def get(self, tenant: str, session_id: str) -> LiveSessionRow | None:
        sql = f"SELECT {LIVE_SESSION_COLUMNS} FROM live_sessions WHERE tenant_id = $1 AND session_id = $2"
        return decode_optional(await self.pool.fetchrow(sql, tenant, session_id), LiveSessionRow)


class UsageReads:
    """What the quotas count, per tenant."""

    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def active_job_count(self, tenant: str) -> int:
        """The tenant's queued and running jobs, from the small partial index `jobs_active_by_tenant`."""
        return await self.pool.fetchval(
            "SELECT count(*) FROM jobs WHERE tenant_id = $1 AND status IN ('queued', 'running')", tenant
        )

    async def stored_bytes(self, tenant: str) -> int:
        """The size of the tenant's stored recordings (deleted ones are purged from the table)."""
        return await self.pool.fetchval(
            "SELECT coalesce(sum(size_bytes), 0)::bigint FROM recordings WHERE tenant_id = $1", tenant
        )

    async def event_log_bytes(self, tenant: str) -> int:
        """The bytes of the tenant's events in the log, as the projector counted them (deletes do not shrink it)."""
        used = await self.pool.fetchval("SELECT event_bytes FROM tenant_usage WHERE tenant_id = $1", tenant)
        return used or 0

    async def webhook_count(self, tenant: str) -> int:
        return await self.pool.fetchval(
            "SELECT count(*) FROM webhook_endpoints WHERE tenant_id = $1 AND status <> 'deleted'", tenant
        )

    async def insight_runs_in_flight(self, tenant: str) -> int:
        return await self.pool.fetchval(
            """SELECT count(DISTINCT run_id) FROM insights
               WHERE tenant_id = $1 AND status IN ('pending', 'running')""",
            tenant,
        )


class OperationReads:
    """The gateway's own machinery: API keys by hash, command effects (read-your-writes), the schema, the projections' health and the job counts the metrics show."""

    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def key_for_hash(self, key_hash: str) -> KeyInfo | None:
        sql = "SELECT key_id, tenant_id AS tenant, scope, expires_at, revoked_at FROM api_keys WHERE key_hash = $1"
        return decode_optional(await self.pool.fetchrow(sql, key_hash), KeyInfo)

    async def command_effect(self, tenant: str, command_id: str) -> int | None:
        sql = "SELECT seq FROM command_effects WHERE command_id = $1 AND tenant_id = $2"
        return await self.pool.fetchval(sql, command_id, tenant)

    async def schema_version(self) -> int:
        return await self.pool.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")

    async def projection_health(self) -> list[ProjectionRow]:
        """Each live projection's checkpoint and how many events it holds in quarantine (a small table)."""
        return [row for row in await self.projections() if is_live_checkpoint(row.name)]

    async def projections(self) -> list[ProjectionRow]:
        """Every checkpoint, a replay's shadow among them (the metrics show its progress)."""
        records = await self.pool.fetch(
            f"""SELECT c.name, c.last_seq, c.skipped,
                       (SELECT count(*) FROM {QUARANTINE_TABLE} q WHERE q.projection = c.name) AS quarantined
                FROM projection_checkpoints c ORDER BY c.name"""
        )
        return decode_rows(records, ProjectionRow)

    async def job_counts(self, statuses: tuple[str, ...]) -> dict[str, int]:
        """Jobs by status, each counted from the `jobs_by_status` index (an index-only scan, not the table)."""
        rows = await self.pool.fetch(
            """SELECT s.status, (SELECT count(*) FROM jobs j WHERE j.status = s.status) AS n
               FROM unnest($1::text[]) AS s(status)""",
            list(statuses),
        )
        return dict(rows)


class ReadModels:
    """Every read of the read models, by responsibility; each query is scoped to the caller's tenant."""

    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool
        self.recordings = RecordingReads(pool)
        self.jobs = JobReads(pool)
        self.transcripts = TranscriptReads(pool)
        self.live = LiveSessionReads(pool)
        self.usage = UsageReads(pool)
        self.ops = OperationReads(pool)
