"""Applies a batch of projected row operations and the checkpoint in one transaction, set-based.

Per table and batch: one SELECT loads the rows the batch touches, and one
INSERT ... SELECT FROM unnest(...) writes them back, so the cost is per batch
and per table, not per event. The checkpoint row is locked first: two writers of
one projection (a replay's swap, a projector that lost its lease) serialise on it.
"""

import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import msgspec
import structlog
from prometheus_client import Counter

from voxledger.contracts.readmodels import NOTIFY_CHANNEL, PROJECTION, QUARANTINE_TABLE, TABLES
from voxledger.projector.domain import batch
from voxledger.projector.domain.intake import Item, describe
from voxledger.projector.domain.ops import Op, Purge, Row
from voxledger.projector.domain.quarantine import isolate, quarantined
from voxledger.runtime.db import DATABASE_UNAVAILABLE_ERRORS

log = structlog.get_logger(__name__)


# Errors the data causes, not the database's state: retrying the same batch would fail the same way forever.
# Anything else (a lost connection, a server shutting down, a deadlock) is transient: the batch is retried whole.
POISON_ERRORS = (
    asyncpg.DataError,  # also asyncpg's own "invalid input for query argument"
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.ProgramLimitExceededError,  # e.g. a value too large for an index or a tsvector
    ValueError,  # UnicodeEncodeError among them: a lone surrogate in a text value
    TypeError,
    KeyError,
)
QUARANTINED = Counter(
    "voxledger_projector_quarantined_events",
    "Events set aside as poison (undecodable or refused by the database)",
    ["projection"],
)


class Column(msgspec.Struct, frozen=True):
    name: str
    type: str
    default: object = None  # the Python value of a constant default, for rows a batch creates


class Layout:
    """Where a projection's tables physically are: the live ones, or a replay's shadow copies."""

    def __init__(self, checkpoint: str = PROJECTION, suffix: str = "", projection: str = PROJECTION):
        self.checkpoint = checkpoint
        self.suffix = suffix
        self.projection = projection  # a replay's shadow is still this projection (its quarantine rows say so)
        self._columns: dict[str, list[Column]] = {}

    def table(self, name: str) -> str:
        return name + self.suffix

    async def columns(self, conn: asyncpg.Connection, name: str) -> list[Column]:
        if name not in self._columns:
            self._columns[name] = await _describe(conn, self.table(name))
        return self._columns[name]


async def _describe(conn: asyncpg.Connection, table: str) -> list[Column]:
    rows = await conn.fetch(
        """SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, pg_get_expr(d.adbin, d.adrelid) AS dflt
           FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
           ORDER BY a.attnum""",
        table,
    )
    return [Column(r["attname"], r["type"], _constant(r["dflt"], r["type"])) for r in rows]


def _constant(expression: str | None, column_type: str) -> object:
    """Literal defaults (`0`, `0.0`, `'upload'::text`, `'[]'::jsonb`) as Python values; other defaults are not used."""
    if expression is None:
        return None
    text = re.fullmatch(r"'((?:[^']|'')*)'(?:::[\w ]+)?", expression)
    if text:
        literal = text.group(1).replace("''", "'")
        return msgspec.json.decode(literal) if column_type == "jsonb" else literal
    try:
        return int(expression)
    except ValueError:
        try:
            return float(expression)
        except ValueError:
            return None


async def refresh_statistics(pool: asyncpg.Pool, layout: Layout) -> None:
    async with pool.acquire() as conn:
        for table in TABLES:
            await conn.execute(f"ANALYZE {layout.table(table)}")
    log.info("projector.statistics_refreshed")


# The tables a delete removes a recording's rows from (_purge) that held what was said or typed in it.
ERASED_TABLES = ("recordings", "jobs", "segments", "passages", "insights", "live_sessions", QUARANTINE_TABLE)


async def erase_deleted_rows(pool: asyncpg.Pool, layout: Layout) -> None:
    """Removes deleted rows' bytes from every file of the cluster. A DELETE (and a plain VACUUM after it)
    leaves them in the heap pages, and GIN keeps a lexeme's entry; VACUUM FULL writes each table and its
    indexes anew and drops the old files. The WAL that recorded the rows is then switched away from, and a
    checkpoint removes its segments (the server runs with wal_recycle=off: unlinked, not kept for reuse)."""
    started = time.perf_counter()
    async with pool.acquire() as conn:
        for table in ERASED_TABLES:
            await conn.execute(f"VACUUM FULL {layout.table(table)}")
        await conn.execute("SELECT pg_switch_wal()")
        await conn.execute("CHECKPOINT")
    log.info("projector.deleted_rows_erased", took_s=round(time.perf_counter() - started, 3))


async def checkpoint(pool: asyncpg.Pool, name: str = PROJECTION) -> int:
    return await pool.fetchval("SELECT last_seq FROM projection_checkpoints WHERE name = $1", name) or 0


async def lock_checkpoint(conn: asyncpg.Connection, name: str) -> int:
    await conn.execute(
        "INSERT INTO projection_checkpoints (name, last_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING", name
    )
    return int(await conn.fetchval("SELECT last_seq FROM projection_checkpoints WHERE name = $1 FOR UPDATE", name))


def is_poison(err: Exception) -> bool:
    return isinstance(err, POISON_ERRORS) and not isinstance(err, DATABASE_UNAVAILABLE_ERRORS)


async def apply_batch(pool: asyncpg.Pool, layout: Layout, items: Sequence[Item], *, lag: int = 0) -> int:
    """Applies the events after the stored checkpoint, each try in its own transaction; returns the new checkpoint."""

    @asynccontextmanager
    async def transaction() -> AsyncIterator[asyncpg.Connection]:
        async with pool.acquire() as conn, conn.transaction():
            yield conn

    return await _apply_isolating(transaction, layout, items, lag)


async def apply_in_transaction(conn: asyncpg.Connection, layout: Layout, items: Sequence[Item], *, lag: int = 0) -> int:
    """As apply_batch, inside the caller's transaction: each try is a savepoint, so a poison event is undone alone."""

    @asynccontextmanager
    async def savepoint() -> AsyncIterator[asyncpg.Connection]:
        async with conn.transaction():
            yield conn

    return await _apply_isolating(savepoint, layout, items, lag)


Begin = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]


async def _apply_isolating(begin: Begin, layout: Layout, items: Sequence[Item], lag: int) -> int:
    """One try for the whole batch; after a poison failure, split until the failing event is alone, and
    quarantine it in place of its rows. Events that did not even decode are quarantined at once."""
    now = datetime.now(UTC)
    items = [quarantined(i, layout.projection, i.error, now) if i.error is not None else i for i in items]

    async def attempt(chunk: Sequence[Item]) -> int:
        async with begin() as conn:
            new_seq, stored = await _apply(conn, layout, chunk, lag)
        _report([i for i in chunk if i.error is not None and i.seq > stored], layout)
        return new_seq

    async def set_aside(item: Item, err: Exception) -> int:
        error = describe(err)
        if layout.suffix:  # a replay's error names the shadow tables; the live one would not
            error = error.replace(layout.suffix, "")
        try:
            return await attempt([quarantined(item, layout.projection, error, now)])
        except Exception as again:  # even the degraded mark failed: the quarantine row alone
            if not is_poison(again):
                raise
            return await attempt([quarantined(item, layout.projection, error, now, mark=False)])

    return await isolate(items, attempt, set_aside, is_poison)


def _report(items: Sequence[Item], layout: Layout) -> None:
    for item in items:  # exactly one error line per quarantined event, once it is committed
        QUARANTINED.labels(layout.projection).inc()
        log.error(
            "projector.event_quarantined",
            projection=layout.projection,
            seq=item.seq,
            event_type=item.event_type,
            aggregate_id=item.aggregate_id,
            tenant=item.tenant_id,
            error=item.error,
        )


async def _apply(conn: asyncpg.Connection, layout: Layout, items: Sequence[Item], lag: int) -> tuple[int, int]:
    """In the caller's transaction: rows and checkpoint. Returns (new checkpoint, checkpoint before)."""
    stored = await lock_checkpoint(conn, layout.checkpoint)
    fresh = [i for i in items if i.seq > stored]  # earlier: a redelivery
    await apply_ops(conn, layout, [op for item in fresh for op in item.ops])
    new_seq = max([stored, *(i.seq for i in items)])
    await conn.execute(
        "UPDATE projection_checkpoints SET last_seq = $2, skipped = skipped + $3, lag = $4 WHERE name = $1",
        layout.checkpoint,
        new_seq,
        sum(1 for i in fresh if i.skipped is not None),
        lag,
    )
    if new_seq > stored and not layout.suffix:  # delivered on commit; a shadow's progress concerns no reader
        await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, f"{layout.checkpoint}:{new_seq}")
    return new_seq, stored


async def apply_ops(conn: asyncpg.Connection, layout: Layout, ops: Sequence[Op]) -> None:
    """Folds the operations onto the rows they touch and writes the outcome, set-based."""
    if not ops:
        return
    loaded = await _load(conn, layout, batch.rows_to_load(ops))
    outcome = batch.fold_ops(ops, loaded)
    await _purge(conn, layout, outcome.purged)
    deleted = set(outcome.purged) | await _deleted_among(conn, layout, batch.recording_ids(outcome))
    outcome = batch.without_recordings(outcome, deleted)
    for table, rows in outcome.upserts.items():
        await _write(conn, layout, table, list(rows.values()), replace=True)
    for table, rows in outcome.inserts.items():
        await _write(conn, layout, table, list(rows.values()), replace=False)


async def _load(conn: asyncpg.Connection, layout: Layout, wanted: dict[str, set[batch.Key]]) -> batch.Tables:
    loaded: batch.Tables = {}
    for table, keys in wanted.items():
        columns = {c.name: c for c in await layout.columns(conn, table)}
        pk = batch.PRIMARY_KEYS[table]
        arrays = [list(values) for values in zip(*keys, strict=True)]
        unnest = ", ".join(f"${i}::{columns[c].type}[]" for i, c in enumerate(pk, start=1))
        names = ", ".join(columns)
        rows = await conn.fetch(
            f"SELECT {names} FROM {layout.table(table)} WHERE ({', '.join(pk)}) IN (SELECT * FROM unnest({unnest}))",
            *arrays,
        )
        loaded[table] = {batch.key_of(table, r): dict(r) for r in rows}
    return loaded


async def _write(conn: asyncpg.Connection, layout: Layout, table: str, rows: list[Row], *, replace: bool) -> None:
    if not rows:
        return
    columns = await layout.columns(conn, table)
    arrays = [[_param(c, row.get(c.name, c.default)) for row in rows] for c in columns]
    names = ", ".join(c.name for c in columns)
    # jsonb travels as text: a JSON list inside a Postgres array parameter would read as a sub-array; a vector
    # too (its text form, '[0.1,...]'), as asyncpg has no codec for pgvector's type.
    unnest = ", ".join(f"${i}::{_wire_type(c)}[]" for i, c in enumerate(columns, start=1))
    selected = ", ".join(f"{c.name}::{c.type}" if _as_text(c) else c.name for c in columns)
    pk = batch.PRIMARY_KEYS[table]
    if replace:
        updates = ", ".join(f"{c.name} = EXCLUDED.{c.name}" for c in columns if c.name not in pk)
        conflict = f"ON CONFLICT ({', '.join(pk)}) DO UPDATE SET {updates}"
    else:
        conflict = "ON CONFLICT DO NOTHING"
    await conn.execute(
        f"INSERT INTO {layout.table(table)} ({names}) SELECT {selected} FROM unnest({unnest}) AS u({names}) {conflict}",
        *arrays,
    )


def _as_text(column: Column) -> bool:
    return column.type == "jsonb" or column.type.startswith("vector")


def _wire_type(column: Column) -> str:
    return "text" if _as_text(column) else column.type


def _param(column: Column, value: object) -> object:
    if column.type == "jsonb" and value is not None:
        return _json(value).decode()
    return value


_json = msgspec.json.Encoder().encode


async def _purge(conn: asyncpg.Connection, layout: Layout, purged: dict[str, Purge]) -> None:
    if not purged:
        return
    ids = list(purged)
    await conn.executemany(
        f"INSERT INTO {layout.table('deleted_recordings')} (recording_id, tenant_id, deleted_at) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        [(p.recording_id, p.tenant_id, p.at) for p in purged.values()],
    )
    for table in ("recordings", "jobs", "segments", "passages", "insights"):
        await conn.execute(f"DELETE FROM {layout.table(table)} WHERE recording_id = ANY($1::uuid[])", ids)
    # a live session is its recording: same id
    await conn.execute(f"DELETE FROM {layout.table('live_sessions')} WHERE session_id = ANY($1::uuid[])", ids)
    # and its quarantined events: deleting it settles them, also for /readyz (the log still has them)
    await conn.execute(
        f"DELETE FROM {layout.table(QUARANTINE_TABLE)} WHERE projection = $1 AND aggregate_id = ANY($2::text[])",
        layout.projection,
        ids,
    )


async def _deleted_among(conn: asyncpg.Connection, layout: Layout, recording_ids: set[str]) -> set[str]:
    if not recording_ids:
        return set()
    rows = await conn.fetch(
        f"SELECT recording_id FROM {layout.table('deleted_recordings')} WHERE recording_id = ANY($1::uuid[])",
        list(recording_ids),
    )
    return {r["recording_id"] for r in rows}
