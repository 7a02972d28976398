"""Shadow tables for a zero-downtime rebuild, the atomic swap, and the content digest.

A rebuild writes `<table>__shadow` copies while the live tables keep serving. The
swap renames every table of the projection in one transaction, so a reader sees
either the old tables or the new ones, never a mix and never none.
"""

import asyncio
import hashlib
import re

import asyncpg

from voxledger.contracts.readmodels import SHADOW_SUFFIX, TABLES
from voxledger.projector.adapters.postgres import Layout, lock_checkpoint
from voxledger.projector.domain.batch import PRIMARY_KEYS

# The read models a client sees; bookkeeping (command_effects) is left out of the digest. Quarantined events
# are in: a replay must set aside the same events and mark the same recordings (`read_model_error`), or it
# did not rebuild the same read models. When they were set aside (wall-clock time) is left out.
DIGEST_TABLES = tuple(table for table in TABLES if table != "command_effects")
NOT_DIGESTED = {"quarantined_at"}
LOCK_WAIT_MS = 100
LOCK_TRIES = 600
_INDEX_DEF = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON \S+ (USING .*)$")


async def create_shadow(pool: asyncpg.Pool) -> None:
    """Empty shadow tables with the live columns and keys; secondary indexes come after the bulk load."""
    async with pool.acquire() as conn, conn.transaction():
        for table in TABLES:
            shadow = table + SHADOW_SUFFIX
            await conn.execute(f"DROP TABLE IF EXISTS {shadow}")
            await conn.execute(f"CREATE TABLE {shadow} (LIKE {table} INCLUDING DEFAULTS INCLUDING GENERATED)")
            for name, definition in await _constraints(conn, table):
                await conn.execute(f"ALTER TABLE {shadow} ADD CONSTRAINT {name}{SHADOW_SUFFIX} {definition}")


async def index_shadow(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        for table in TABLES:
            for name, definition in await _indexes(conn, table):
                match = _INDEX_DEF.match(definition)
                assert match, f"an index definition this rebuild cannot copy: {definition}"
                unique, using = match.groups()
                await conn.execute(
                    f"CREATE {unique or ''}INDEX {name}{SHADOW_SUFFIX} ON {table}{SHADOW_SUFFIX} {using}"
                )
            await conn.execute(f"ANALYZE {table}{SHADOW_SUFFIX}")


async def swap(conn: asyncpg.Connection, shadow: Layout, live: Layout) -> None:
    """In the caller's transaction, which holds both checkpoints: shadow tables become the live ones."""
    await _lock_all(conn)
    for table in TABLES:
        constraints = [name for name, _ in await _constraints(conn, table)]
        indexes = [name for name, _ in await _indexes(conn, table)]
        await conn.execute(f"ALTER TABLE {table} RENAME TO {table}__old")
        await conn.execute(f"ALTER TABLE {table}{SHADOW_SUFFIX} RENAME TO {table}")
        await conn.execute(f"DROP TABLE {table}__old")
        for name in constraints:
            await conn.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {name}{SHADOW_SUFFIX} TO {name}")
        for name in indexes:
            await conn.execute(f"ALTER INDEX {name}{SHADOW_SUFFIX} RENAME TO {name}")
    await conn.execute(
        """UPDATE projection_checkpoints AS live SET last_seq = shadow.last_seq, skipped = shadow.skipped, lag = 0
           FROM projection_checkpoints AS shadow WHERE live.name = $1 AND shadow.name = $2""",
        live.checkpoint,
        shadow.checkpoint,
    )
    await conn.execute("DELETE FROM projection_checkpoints WHERE name = $1", shadow.checkpoint)


async def _lock_all(conn: asyncpg.Connection) -> None:
    """Every table at once, giving way quickly and retrying.

    A reader locks the tables of its query one after the other. Waiting long for
    one table while holding another could deadlock with it; giving way after a
    short wait lets the reader finish, and the next try finds the tables free.
    """
    names = ", ".join(t + suffix for t in TABLES for suffix in ("", SHADOW_SUFFIX))
    for _ in range(LOCK_TRIES):
        try:
            async with conn.transaction():  # a savepoint: a timed-out try is undone alone
                await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT_MS}ms'")
                await conn.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
            await conn.execute("SET LOCAL lock_timeout = 0")
            return
        except asyncpg.LockNotAvailableError:
            await asyncio.sleep(0.01)
    raise TimeoutError(f"could not lock the read models for the swap in {LOCK_TRIES} tries")


async def lock_both(conn: asyncpg.Connection, shadow: Layout, live: Layout) -> tuple[int, int]:
    """Blocks the live projector's next batch until the swap commits; returns (shadow, live) checkpoints."""
    return await lock_checkpoint(conn, shadow.checkpoint), await lock_checkpoint(conn, live.checkpoint)


async def _constraints(conn: asyncpg.Connection, table: str) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        """SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
           WHERE conrelid = $1::regclass AND contype IN ('p', 'u') ORDER BY conname""",
        table,
    )
    return [(r["conname"], r["def"]) for r in rows]


async def _indexes(conn: asyncpg.Connection, table: str) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        """SELECT i.relname, pg_get_indexdef(i.oid) AS def FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
           WHERE x.indrelid = $1::regclass
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.relname""",
        table,
    )
    return [(r["relname"], r["def"]) for r in rows]


async def digest(pool: asyncpg.Pool, layout: Layout | None = None) -> dict[str, tuple[int, str]]:
    """Per read model: its row count and a SHA-256 of its rows in key order, whatever their physical order."""
    layout = layout or Layout()
    found: dict[str, tuple[int, str]] = {}
    async with pool.acquire() as conn:
        for table in DIGEST_TABLES:
            columns = ", ".join(c.name for c in await layout.columns(conn, table) if c.name not in NOT_DIGESTED)
            order = ", ".join(PRIMARY_KEYS[table])
            row = await conn.fetchrow(
                f"""SELECT count(*) AS n, coalesce(encode(sha256(convert_to(
                        string_agg(ROW({columns})::text, E'\\n' ORDER BY {order}), 'UTF8')), 'hex'), '') AS digest
                    FROM {layout.table(table)}"""
            )
            found[table] = (row["n"], row["digest"] or hashlib.sha256(b"").hexdigest())
    return found
