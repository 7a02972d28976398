"""Applies a batch of projected row operations and the checkpoint in one transaction."""

import asyncpg

from voxledger.projector.domain.projection import InsertMany, Op, Update, Upsert


async def checkpoint(pool: asyncpg.Pool, name: str) -> int:
    return await pool.fetchval("SELECT last_seq FROM projection_checkpoints WHERE name = $1", name) or 0


async def apply_batch(pool: asyncpg.Pool, name: str, last_seq: int, ops_by_seq: list[tuple[int, list[Op]]]) -> int:
    """Applies the operations of events after the stored checkpoint; returns the new checkpoint."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO projection_checkpoints (name, last_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING", name
        )
        stored = await conn.fetchval("SELECT last_seq FROM projection_checkpoints WHERE name = $1 FOR UPDATE", name)
        for seq, ops in ops_by_seq:
            if seq <= stored:
                continue  # already applied: a redelivery or an overlapping restart
            for op in ops:
                await _execute(conn, op)
        if last_seq > stored:
            await conn.execute("UPDATE projection_checkpoints SET last_seq = $2 WHERE name = $1", name, last_seq)
        return max(last_seq, stored)


async def _execute(conn: asyncpg.Connection, op: Op) -> None:
    match op:
        case Upsert(table=table, key=key, values=values):
            cols = [*key, *values]
            params = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in values)
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({params}) ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
            await conn.execute(sql, *key.values(), *values.values())
        case Update(table=table, key=key, values=values):
            sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(values, start=1))
            where = " AND ".join(f"{c} = ${i}" for i, c in enumerate(key, start=len(values) + 1))
            await conn.execute(f"UPDATE {table} SET {sets} WHERE {where}", *values.values(), *key.values())
        case InsertMany(table=table, rows=rows) if rows:
            cols = list(rows[0])
            params = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({params}) ON CONFLICT DO NOTHING"
            await conn.executemany(sql, [tuple(r.values()) for r in rows])
