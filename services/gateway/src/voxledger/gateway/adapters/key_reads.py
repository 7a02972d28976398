"""Queries of the api_keys read model, each scoped to the caller's tenant. Only hashes are in it, never keys."""

import asyncpg

from voxledger.contracts.readmodels import ApiKeyRow
from voxledger.gateway.adapters.readmodels import decode_optional, decode_rows

KEY_COLUMNS = ApiKeyRow.columns()


async def key(pool: asyncpg.Pool, tenant: str, key_id: str) -> ApiKeyRow | None:
    sql = f"SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND key_id = $2"
    return decode_optional(await pool.fetchrow(sql, tenant, key_id), ApiKeyRow)


async def keys(pool: asyncpg.Pool, tenant: str, limit: int, before: str | None) -> list[ApiKeyRow]:
    """Newest first: key ids are UUIDv7, so their text order is their creation order."""
    records = await pool.fetch(
        f"""SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND ($2::text IS NULL OR key_id < $2::text)
            ORDER BY key_id DESC LIMIT $3""",
        tenant,
        before,
        limit,
    )
    return decode_rows(records, ApiKeyRow)
