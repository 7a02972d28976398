"""Applies a batch of projected row operations and the checkpoint in one transaction, set-based.

Per table and batch: one SELECT loads the rows the batch touches, and one
INSERT ... SELECT FROM unnest(...) writes them back, so the cost is per batch
and per table, not per event. The checkpoint row is locked first: two writers of
one projection (a replay's swap, a projector that lost its lease) serialise on it.
"""

import re
from collections.abc import Sequence

import asyncpg
import msgspec
import structlog

from voxledger.projector.domain import batch
from voxledger.projector.domain.projection import Op

log = structlog.get_logger(__name__)

PROJECTION = "read_models"
# The tables of the read_models projection, in the order a rebuild creates them.
TABLES = (
    "api_keys", "recordings", "jobs", "segments", "insights", "command_effects", "deleted_recordings", "live_sessions",
)  # fmt: skip
SHADOW_SUFFIX = "__shadow"


class Column(msgspec.Struct, frozen=True):
    name: str
    type: str
    default: object = None  # the Python value of a constant default, for rows a batch creates


class Layout:
    """Where a projection's tables physically are: the live ones, or a replay's shadow copies."""

    def __init__(self, checkpoint: str = PROJECTION, suffix: str = ""):
        self.checkpoint = checkpoint
        self.suffix = suffix
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
    return [Column(r["attname"], r["type"], _constant(r["dflt"])) for r in rows]


def _constant(expression: str | None) -> object:
    """Literal defaults (`0`, `0.0`, `'upload'::text`) as Python values; other defaults are not used."""
    if expression is None:
        return None
    text = re.fullmatch(r"'((?:[^']|'')*)'(?:::[\w ]+)?", expression)
    if text:
        return text.group(1).replace("''", "'")
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


async def checkpoint(pool: asyncpg.Pool, name: str = PROJECTION) -> int:
    return await pool.fetchval("SELECT last_seq FROM projection_checkpoints WHERE name = $1", name) or 0


async def lock_checkpoint(conn: asyncpg.Connection, name: str) -> int:
    await conn.execute(
        "INSERT INTO projection_checkpoints (name, last_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING", name
    )
    return await conn.fetchval("SELECT last_seq FROM projection_checkpoints WHERE name = $1 FOR UPDATE", name)


async def apply_batch(
    pool: asyncpg.Pool, layout: Layout, ops_by_seq: Sequence[tuple[int, list[Op]]], *, skipped: int = 0, lag: int = 0
) -> int:
    """Applies the operations of events after the stored checkpoint; returns the new checkpoint."""
    async with pool.acquire() as conn, conn.transaction():
        return await apply_in_transaction(conn, layout, ops_by_seq, skipped=skipped, lag=lag)


async def apply_in_transaction(
    conn: asyncpg.Connection,
    layout: Layout,
    ops_by_seq: Sequence[tuple[int, list[Op]]],
    *,
    skipped: int = 0,
    lag: int = 0,
) -> int:
    stored = await lock_checkpoint(conn, layout.checkpoint)
    ops = [op for seq, seq_ops in ops_by_seq if seq > stored for op in seq_ops]  # earlier: a redelivery
    last_seq = max((seq for seq, _ in ops_by_seq), default=stored)
    if ops:
        loaded = await _load(conn, layout, batch.rows_to_load(ops))
        outcome = batch.fold_ops(ops, loaded)
        await _purge(conn, layout, outcome.purged)
        deleted = set(outcome.purged) | await _deleted_among(conn, layout, batch.recording_ids(outcome))
        outcome = batch.without_recordings(outcome, deleted)
        for table, rows in outcome.upserts.items():
            await _write(conn, layout, table, list(rows.values()), replace=True)
        for table, rows in outcome.inserts.items():
            await _write(conn, layout, table, list(rows.values()), replace=False)
    new_seq = max(last_seq, stored)
    await conn.execute(
        "UPDATE projection_checkpoints SET last_seq = $2, skipped = skipped + $3, lag = $4 WHERE name = $1",
        layout.checkpoint,
        new_seq,
        skipped,
        lag,
    )
    return new_seq


async def _load(conn: asyncpg.Connection, layout: Layout, wanted: dict[str, set[tuple]]) -> dict[str, dict]:
    loaded: dict[str, dict] = {}
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


async def _write(conn: asyncpg.Connection, layout: Layout, table: str, rows: list[dict], *, replace: bool) -> None:
    if not rows:
        return
    columns = await layout.columns(conn, table)
    arrays = [[_param(c, row.get(c.name, c.default)) for row in rows] for c in columns]
    names = ", ".join(c.name for c in columns)
    # jsonb travels as text: a JSON list inside a Postgres array parameter would read as a sub-array.
    unnest = ", ".join(f"${i}::{_wire_type(c)}[]" for i, c in enumerate(columns, start=1))
    selected = ", ".join(f"{c.name}::jsonb" if c.type == "jsonb" else c.name for c in columns)
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


def _wire_type(column: Column) -> str:
    return "text" if column.type == "jsonb" else column.type


def _param(column: Column, value: object) -> object:
    if column.type == "jsonb" and value is not None:
        return _json(value).decode()
    return value


_json = msgspec.json.Encoder().encode


async def _purge(conn: asyncpg.Connection, layout: Layout, purged: dict) -> None:
    if not purged:
        return
    ids = list(purged)
    await conn.executemany(
        f"INSERT INTO {layout.table('deleted_recordings')} (recording_id, tenant_id, deleted_at) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        [(p.recording_id, p.tenant_id, p.at) for p in purged.values()],
    )
    for table in ("recordings", "jobs", "segments", "insights"):
        await conn.execute(f"DELETE FROM {layout.table(table)} WHERE recording_id = ANY($1::uuid[])", ids)
    # a live session is its recording: same id
    await conn.execute(f"DELETE FROM {layout.table('live_sessions')} WHERE session_id = ANY($1::uuid[])", ids)


async def _deleted_among(conn: asyncpg.Connection, layout: Layout, recording_ids: set[str]) -> set[str]:
    if not recording_ids:
        return set()
    rows = await conn.fetch(
        f"SELECT recording_id FROM {layout.table('deleted_recordings')} WHERE recording_id = ANY($1::uuid[])",
        list(recording_ids),
    )
    return {r["recording_id"] for r in rows}
