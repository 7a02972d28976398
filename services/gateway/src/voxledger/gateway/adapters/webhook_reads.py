"""Queries of the webhook read models, each scoped to the caller's tenant. Secrets are not in them."""

import asyncpg

ENDPOINT_COLUMNS = """endpoint_id, url, events, description, status, disabled_reason, previous_secret_valid_until,
    created_at, updated_at"""
DELIVERY_COLUMNS = """delivery_id, endpoint_id, webhook_id, event_type, resource_id, payload, status, attempts,
    last_status_code, last_error, last_latency_ms, next_retry_at, redelivery_of, drop_reason, created_at, updated_at"""


async def endpoint(pool: asyncpg.Pool, tenant: str, endpoint_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        f"""SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
            WHERE tenant_id = $1 AND endpoint_id = $2 AND status <> 'deleted'""",
        tenant,
        endpoint_id,
    )


async def endpoints(pool: asyncpg.Pool, tenant: str, limit: int, before: str | None) -> list:
    """Newest first: endpoint ids are UUIDv7."""
    return await pool.fetch(
        f"""SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
            WHERE tenant_id = $1 AND status <> 'deleted' AND ($2::uuid IS NULL OR endpoint_id < $2::uuid)
            ORDER BY endpoint_id DESC LIMIT $3""",
        tenant,
        before,
        limit,
    )


async def deliveries(pool: asyncpg.Pool, tenant: str, endpoint_id: str, limit: int) -> list:
    return await pool.fetch(
        f"""SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2
            ORDER BY created_at DESC, delivery_id LIMIT $3""",
        tenant,
        endpoint_id,
        limit,
    )


async def delivery(pool: asyncpg.Pool, tenant: str, endpoint_id: str, delivery_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2 AND delivery_id = $3",
        tenant,
        endpoint_id,
        delivery_id,
    )


async def attempts(pool: asyncpg.Pool, tenant: str, delivery_ids: list[str]) -> dict[str, list]:
    rows = await pool.fetch(
        """SELECT delivery_id, attempt, outcome, status_code, error, latency_ms, response_excerpt, next_retry_at,
                  attempted_at
           FROM webhook_attempts WHERE tenant_id = $1 AND delivery_id = ANY($2::uuid[]) ORDER BY delivery_id, attempt""",
        tenant,
        delivery_ids,
    )
    found: dict[str, list] = {}
    for row in rows:
        found.setdefault(str(row["delivery_id"]), []).append(row)
    return found
