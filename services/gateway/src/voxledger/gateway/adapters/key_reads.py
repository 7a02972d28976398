"""Queries of the api_keys read model, each scoped to the caller's tenant. Only hashes are in it, never keys."""

import asyncpg

KEY_COLUMNS = "key_id, prefix, name, scope, created_at, expires_at, revoked_at, last_used_at"


async def key(pool: asyncpg.Pool, tenant: str, key_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        f"SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND key_id = $2", tenant, key_id
    )


async def keys(pool: asyncpg.Pool, tenant: str, limit: int, before: str | None) -> list:
    """Newest first: key ids are UUIDv7, so their text order is their creation order."""
    return await pool.fetch(
        f"""SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND ($2::text IS NULL OR key_id < $2::text)
            ORDER BY key_id DESC LIMIT $3""",
        tenant,
        before,
        limit,
    )
