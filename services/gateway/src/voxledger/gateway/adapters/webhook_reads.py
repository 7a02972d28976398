"""Queries of the webhook read models, each scoped to the caller's tenant. Secrets are not in them."""

import asyncpg

from voxledger.contracts.readmodels import WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow
from voxledger.gateway.adapters.readmodels import decode_optional, decode_rows

ENDPOINT_COLUMNS = WebhookEndpointRow.columns()
DELIVERY_COLUMNS = WebhookDeliveryRow.columns()


async def endpoint(pool: asyncpg.Pool, tenant: str, endpoint_id: str) -> WebhookEndpointRow | None:
    sql = f"""SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
              WHERE tenant_id = $1 AND endpoint_id = $2 AND status <> 'deleted'"""
    return decode_optional(await pool.fetchrow(sql, tenant, endpoint_id), WebhookEndpointRow)


async def endpoints(pool: asyncpg.Pool, tenant: str, limit: int, before: str | None) -> list[WebhookEndpointRow]:
    """Newest first: endpoint ids are UUIDv7."""
    records = await pool.fetch(
        f"""SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
            WHERE tenant_id = $1 AND status <> 'deleted' AND ($2::uuid IS NULL OR endpoint_id < $2::uuid)
            ORDER BY endpoint_id DESC LIMIT $3""",
        tenant,
        before,
        limit,
    )
    return decode_rows(records, WebhookEndpointRow)


async def deliveries(pool: asyncpg.Pool, tenant: str, endpoint_id: str, limit: int) -> list[WebhookDeliveryRow]:
    sql = f"""SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2
              ORDER BY created_at DESC, delivery_id LIMIT $3"""
    return decode_rows(await pool.fetch(sql, tenant, endpoint_id, limit), WebhookDeliveryRow)


async def delivery(pool: asyncpg.Pool, tenant: str, endpoint_id: str, delivery_id: str) -> WebhookDeliveryRow | None:
    sql = f"""SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
              WHERE tenant_id = $1 AND endpoint_id = $2 AND delivery_id = $3"""
    return decode_optional(await pool.fetchrow(sql, tenant, endpoint_id, delivery_id), WebhookDeliveryRow)


async def attempts(pool: asyncpg.Pool, tenant: str, delivery_ids: list[str]) -> dict[str, list[WebhookAttemptRow]]:
    records = await pool.fetch(
        f"""SELECT {WebhookAttemptRow.columns()} FROM webhook_attempts
            WHERE tenant_id = $1 AND delivery_id = ANY($2::uuid[]) ORDER BY delivery_id, attempt""",
        tenant,
        delivery_ids,
    )
    found: dict[str, list[WebhookAttemptRow]] = {}
    for row in decode_rows(records, WebhookAttemptRow):
        found.setdefault(row.delivery_id, []).append(row)
    return found
