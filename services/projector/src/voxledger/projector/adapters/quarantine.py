"""The quarantine table: listing its events, and applying them again after a fix.

A retry rebuilds each affected aggregate from its own history in the log, in
order, up to the checkpoint: applying one old event on top of newer rows would
not give what an in-order projection gives (a late job Upsert would undo its
completion). It holds the checkpoint row meanwhile, so the live projector waits.
An aggregate whose history still fails is left as it was, still quarantined.
"""

from datetime import datetime

import asyncpg
import msgspec
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from voxledger.contracts import streams, subjects
from voxledger.contracts.readmodels import QUARANTINE_TABLE
from voxledger.projector.adapters.postgres import Layout, apply_ops, is_poison, lock_checkpoint
from voxledger.projector.domain.intake import Item, needs_key, project_message, subject_parts
from voxledger.runtime import feeds
from voxledger.runtime.vault import Vault

HISTORY_TIMEOUT_S = 10.0


class QuarantinedEvent(msgspec.Struct, kw_only=True):
    projection: str
    seq: int
    event_type: str | None
    aggregate_id: str | None
    tenant_id: str | None
    error: str | None
    quarantined_at: datetime | None


class RetryReport(msgspec.Struct, kw_only=True):
    applied: list[int]  # seqs that now apply, removed from the quarantine
    still_failing: list[int]


async def quarantined(pool: asyncpg.Pool, projection: str | None = None) -> list[QuarantinedEvent]:
    rows = await pool.fetch(
        f"""SELECT projection, seq, event_type, aggregate_id, tenant_id, error, quarantined_at FROM {QUARANTINE_TABLE}
            WHERE $1::text IS NULL OR projection = $1 ORDER BY projection, seq""",
        projection,
    )
    return [QuarantinedEvent(**dict(r)) for r in rows]


async def retry(js: JetStreamContext, pool: asyncpg.Pool, layout: Layout, vault: Vault) -> RetryReport:
    seqs = [e.seq for e in await quarantined(pool, layout.projection)]
    by_aggregate: dict[tuple[str, str], list[int]] = {}
    report = RetryReport(applied=[], still_failing=[])
    for seq in seqs:
        try:
            stored = await js.get_msg(streams.EVENTS.name, seq)
        except NotFoundError:  # gone from the log: nothing to apply, ever
            report.still_failing.append(seq)
            continue
        aggregate, aggregate_id, _ = subject_parts(stored.subject or "")
        by_aggregate.setdefault((aggregate, aggregate_id), []).append(seq)
    for (aggregate, aggregate_id), group in by_aggregate.items():
        # A subject with no aggregate id names no history to rebuild.
        rebuilt = bool(aggregate_id) and await _rebuild_aggregate(
            js, vault, pool, layout, aggregate, aggregate_id, group
        )
        (report.applied if rebuilt else report.still_failing).extend(group)
    return report


async def _rebuild_aggregate(
    js: JetStreamContext,
    vault: Vault,
    pool: asyncpg.Pool,
    layout: Layout,
    aggregate: str,
    aggregate_id: str,
    seqs: list[int],
) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        applied_to = await lock_checkpoint(conn, layout.checkpoint)
        items = await _history(js, vault, aggregate, aggregate_id, applied_to)
        if any(i.error is not None for i in items):
            return False
        try:
            async with conn.transaction():  # a savepoint: a history that still fails leaves everything as it was
                await _clear(conn, layout, aggregate, aggregate_id)
                await apply_ops(conn, layout, [op for i in items for op in i.ops])
                await conn.execute(
                    f"DELETE FROM {layout.table(QUARANTINE_TABLE)} WHERE projection = $1 AND seq = ANY($2::bigint[])",
                    layout.projection,
                    seqs,
                )
        except Exception as err:
            if not is_poison(err):
                raise
            return False
    return True


async def _history(js: JetStreamContext, vault: Vault, aggregate: str, aggregate_id: str, until_seq: int) -> list[Item]:
    """The aggregate's events up to `until_seq`, projected, in order."""
    items: list[Item] = []
    async with feeds.stored(
        js, subjects.aggregate_filter(aggregate, aggregate_id), timeout_s=HISTORY_TIMEOUT_S
    ) as events:
        async for raw in events:
            if raw.metadata.sequence.stream > until_seq:
                break  # the live projector applies it, after this
            ciphers = await vault.ciphers(rid for rid in [needs_key(raw.subject)] if rid)
            items.append(project_message(raw.metadata.sequence.stream, raw.subject, raw.data, ciphers.get))
    return items


async def _clear(conn: asyncpg.Connection, layout: Layout, aggregate: str, aggregate_id: str) -> None:
    """Every row the aggregate's events wrote, so its history applies onto nothing, as in a replay."""
    if aggregate == subjects.RECORDING:
        for table in ("recordings", "jobs", "segments", "insights"):
            await conn.execute(f"DELETE FROM {layout.table(table)} WHERE recording_id = $1::uuid", aggregate_id)
        await conn.execute(f"DELETE FROM {layout.table('live_sessions')} WHERE session_id = $1::uuid", aggregate_id)
    elif aggregate == subjects.API_KEY:
        await conn.execute(f"DELETE FROM {layout.table('api_keys')} WHERE key_id = $1", aggregate_id)
