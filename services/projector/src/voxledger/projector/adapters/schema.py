"""Read-model schema migrations: numbered SQL files, applied once each, under an advisory lock."""

from importlib.resources import files

import asyncpg

from voxledger.projector.adapters.grants import grant_read

MIGRATIONS = files("voxledger.projector.adapters") / "migrations"
LOCK_ID = 0x766F786C  # any constant shared by every migrating process


def _migrations() -> list[tuple[int, str]]:
    found = [(int(f.name.split("_", 1)[0]), f.read_text()) for f in MIGRATIONS.iterdir() if f.name.endswith(".sql")]
    return sorted(found)


async def migrate(pool: asyncpg.Pool) -> int:
    """Brings the schema to the newest version; returns it. Safe to run from many processes at once."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK_ID)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        current = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
        for version, sql in _migrations():
            if version > current:
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
                current = version
        await grant_read(conn)
        return int(current)
