"""Queries against the read models. Every query is scoped to the caller's tenant."""

from datetime import datetime

import asyncpg

from voxledger.gateway.domain.keys import KeyInfo
from voxledger.gateway.domain.queue import Queued, QueueState

RECORDING_COLUMNS = """recording_id, filename, content_type, size_bytes, duration_s, status, latest_job_id,
    created_at, updated_at, source, read_model_error"""
JOB_COLUMNS = """job_id, recording_id, status, stage, progress, processed_s, eta_s, attempt, priority, options, model,
    worker, language, language_probability, duration_s, segment_count, processing_s, error_code, error_message, retry_at, trace_id,
    created_at, started_at, finished_at, updated_at, speaker_turns, speaker_names"""


class ReadModels:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def key_for_hash(self, key_hash: str) -> KeyInfo | None:
        row = await self.pool.fetchrow(
            "SELECT key_id, tenant_id, scope, expires_at, revoked_at FROM api_keys WHERE key_hash = $1", key_hash
        )
        if row is None:
            return None
        return KeyInfo(
            key_id=row["key_id"],
            tenant=row["tenant_id"],
            scope=row["scope"],
            expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
        )

    async def schema_version(self) -> int:
        return await self.pool.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")

    async def recording(self, tenant: str, recording_id: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow(
            f"SELECT {RECORDING_COLUMNS} FROM recordings WHERE tenant_id = $1 AND recording_id = $2",
            tenant,
            recording_id,
        )

    async def recordings(
        self, tenant: str, limit: int, before: str | None, status: str | None, created_after: datetime | None = None
    ) -> list:
        return await self.pool.fetch(
            f"""SELECT {RECORDING_COLUMNS} FROM recordings
                WHERE tenant_id = $1 AND ($2::uuid IS NULL OR recording_id < $2::uuid)
                  AND ($3::text IS NULL OR status = $3)
                  AND ($5::timestamptz IS NULL OR created_at > $5)
                ORDER BY recording_id DESC LIMIT $4""",
            tenant,
            before,
            status,
            limit,
            created_after,
        )

    async def recordings_created_before(self, tenant: str, cutoff: datetime, limit: int) -> list[str]:
        """The tenant's recordings older than `cutoff`, oldest first: those retention deletes."""
        rows = await self.pool.fetch(
            """SELECT recording_id::text AS recording_id FROM recordings
                WHERE tenant_id = $1 AND created_at < $2 ORDER BY created_at LIMIT $3""",
            tenant,
            cutoff,
            limit,
        )
        return [r["recording_id"] for r in rows]

    async def jobs(
        self, tenant: str, limit: int, before: str | None, status: str | None, created_after: datetime | None
    ) -> list:
        """The tenant's jobs, newest first; job ids are UUIDv7, so the keyset is stable under inserts."""
        return await self.pool.fetch(
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

    async def jobs_of(self, tenant: str, recording_id: str) -> list:
        return await self.pool.fetch(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1 AND recording_id = $2 ORDER BY job_id DESC",
            tenant,
            recording_id,
        )

    async def job(self, tenant: str, job_id: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1 AND job_id = $2", tenant, job_id
        )

    async def queue_state(self) -> QueueState:
        """What queue positions and ETAs come from (domain/queue.py), in one snapshot. Queued jobs with an
        attempt behind them are not in the fair queue: their retry was already dispatched (WORK)."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            queued = await conn.fetch(
                "SELECT job_id, tenant_id, priority, queued_seq FROM jobs WHERE status = 'queued' AND attempt = 0"
            )
            last = await conn.fetch(
                """SELECT tenant_id, extract(epoch FROM max(started_at))::float8 AS at FROM jobs
                   WHERE tenant_id = ANY($1::text[]) AND started_at IS NOT NULL GROUP BY tenant_id""",
                list({r["tenant_id"] for r in queued}),
            )
            running = await conn.fetch("SELECT eta_s FROM jobs WHERE status = 'running'")
            typical = await conn.fetchval(
                """SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY processing_s) FROM (
                       SELECT processing_s FROM jobs WHERE status = 'completed' AND processing_s IS NOT NULL
                       ORDER BY finished_at DESC LIMIT 20) AS recent"""
            )
        return QueueState(
            queued=[
                Queued(r["job_id"], r["tenant_id"], r["priority"], (r["queued_seq"] or 0, r["job_id"])) for r in queued
            ],
            last_start={r["tenant_id"]: r["at"] for r in last},
            running_left_s=[r["eta_s"] for r in running],
            typical_s=typical,
        )

    async def latest_completed_job(self, tenant: str, recording_id: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow(
            f"""SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1 AND recording_id = $2 AND status = 'completed'
                ORDER BY job_id DESC LIMIT 1""",
            tenant,
            recording_id,
        )

    async def segments(self, tenant: str, job_id: str) -> list:
        return await self.pool.fetch(
            """SELECT idx, start_s, end_s, text, avg_logprob, no_speech_prob, words FROM segments
               WHERE tenant_id = $1 AND job_id = $2 ORDER BY idx""",
            tenant,
            job_id,
        )

    async def projected_seq(self) -> int:
        """How far every live projection has got (a replay's shadow checkpoint does not count)."""
        return (
            await self.pool.fetchval(
                "SELECT coalesce(min(last_seq), 0) FROM projection_checkpoints WHERE name NOT LIKE '%\\_\\_shadow'"
            )
            or 0
        )

    async def command_effect(self, tenant: str, command_id: str) -> int | None:
        sql = "SELECT seq FROM command_effects WHERE command_id = $1 AND tenant_id = $2"
        return await self.pool.fetchval(sql, command_id, tenant)

    async def projection_health(self) -> list:
        """Each live projection's checkpoint and how many events it holds in quarantine (a small table)."""
        return await self.pool.fetch(
            """SELECT c.name, c.last_seq,
                      (SELECT count(*) FROM projection_quarantine q WHERE q.projection = c.name) AS quarantined
               FROM projection_checkpoints c WHERE c.name NOT LIKE '%\\_\\_shadow' ORDER BY c.name"""
        )

    async def projections(self) -> list:
        return await self.pool.fetch(
            """SELECT c.name, c.last_seq, c.skipped,
                      (SELECT count(*) FROM projection_quarantine q WHERE q.projection = c.name) AS quarantined
               FROM projection_checkpoints c ORDER BY c.name"""
        )

    async def search(
        self, tenant: str, query: str, prefixes: list[str], limit: int, offset: int, speaker: str | None = None
    ) -> list:
        """Segments of each recording's newest completed transcript that match, best first, with a snippet;
        with `speaker`, only segments that speaker speaks in (a label, or a name given to it or to a label
        merged into it)."""
        return await self.pool.fetch(
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
               SELECT recording_id, job_id, idx, start_s, end_s, filename, rank,
                      ts_headline('english', text, tsq, 'StartSel=<mark>, StopSel=</mark>, MaxWords=24, MinWords=8') AS snippet
               FROM hits ORDER BY rank DESC, recording_id DESC, job_id, idx""",
            tenant,
            query,
            prefixes,
            limit,
            offset,
            speaker,
        )

    async def insights(self, tenant: str, job_id: str) -> list:
        return await self.pool.fetch(
            """SELECT kind, run_id, status, engine, payload, error_code, error_message, processing_s,
                      requested_at, started_at, finished_at
               FROM insights WHERE tenant_id = $1 AND job_id = $2 ORDER BY kind""",
            tenant,
            job_id,
        )

    async def active_jobs(self, tenant: str) -> list:
        """The tenant's queued and running jobs, oldest first."""
        return await self.pool.fetch(
            f"""SELECT {JOB_COLUMNS} FROM jobs j
                WHERE j.tenant_id = $1 AND j.status IN ('queued', 'running') ORDER BY j.job_id""",
            tenant,
        )

    async def job_counts(self, statuses: tuple[str, ...]) -> dict[str, int]:
        """Jobs by status, each counted from the `jobs_by_status` index (an index-only scan, not the table)."""
        rows = await self.pool.fetch(
            """SELECT s.status, (SELECT count(*) FROM jobs j WHERE j.status = s.status) AS n
               FROM unnest($1::text[]) AS s(status)""",
            list(statuses),
        )
        return {row["status"]: row["n"] for row in rows}

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

    async def live_sessions(self, tenant: str, limit: int, before: str | None) -> list:
        return await self.pool.fetch(
            f"""SELECT {LIVE_SESSION_COLUMNS} FROM live_sessions
                WHERE tenant_id = $1 AND ($2::uuid IS NULL OR session_id < $2::uuid)
                ORDER BY session_id DESC LIMIT $3""",
            tenant,
            before,
            limit,
        )

    async def live_session(self, tenant: str, session_id: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow(
            f"SELECT {LIVE_SESSION_COLUMNS} FROM live_sessions WHERE tenant_id = $1 AND session_id = $2",
            tenant,
            session_id,
        )


LIVE_SESSION_COLUMNS = """session_id, job_id, status, sample_rate, encoding, model, language, worker, end_reason,
    duration_s, stats, started_at, ended_at, updated_at"""
