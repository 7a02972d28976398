"""/v1/webhooks: endpoints that receive signed events, their delivery log, tests and redeliveries.

Each write is one durable command (the webhooks service decides it) answered with 202 and a consistency
token. The signing secret is made here, so the 202 of a create or a rotation can show it, once.
"""

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Annotated

from litestar import Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from voxledger.contracts import subjects
from voxledger.contracts import webhooks as wh
from voxledger.contracts.ids import new_id
from voxledger.contracts.readmodels import WebhookEndpointRow
from voxledger.gateway import webhook_schemas as ws
from voxledger.gateway.adapters import webhook_reads
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.idempotency import fingerprint, reserve
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.domain.errors import Conflict, NotFound, Unacceptable, not_found
from voxledger.gateway.domain.pagination import decode_cursor, encode_cursor
from voxledger.gateway.domain.validation import check_strings
from voxledger.gateway.domain.webhooks import check_description, check_events, check_overlap, check_url, new_secret
from voxledger.gateway.handlers.common import FreshReads, valid_id
from voxledger.gateway.http.consistency import issue_token
from voxledger.gateway.http.params import Cursor, DeliveryId, IdempotencyKey, WebhookId
from voxledger.gateway.http.quotas import Quotas
from voxledger.gateway.settings import GatewaySettings
from voxledger.runtime.netguard import AddressRefused, resolve_checked


async def _checked_url(url: str, settings: GatewaySettings) -> str:
    """Refuses a URL whose host is (or resolves to) a loopback, private or link-local address."""
    host, port = check_url(url)
    try:
        await resolve_checked(host, port, settings.webhook_allow_private)
    except AddressRefused as err:
        raise Unacceptable(err.code, err.message, field="url") from None
    return url


async def _endpoint(fresh: FreshReads, tenant: str, endpoint_id: str) -> WebhookEndpointRow:
    endpoint_id = valid_id(endpoint_id, "webhook")
    pool = fresh.readmodels.pool
    return await fresh.fetch(lambda: webhook_reads.endpoint(pool, tenant, endpoint_id), endpoint_id, "webhook")


async def _send(request: Request, bus: Bus, command: wh.WebhookCommand, tenant: str, dedup_key: str) -> None:
    token = await bus.send(
        command, aggregate_id=command.endpoint_id, tenant=tenant, dedup_key=dedup_key, target=subjects.WEBHOOK
    )
    issue_token(request, token)


@post(
    "/webhooks",
    status_code=202,
    summary="Create a webhook endpoint; the answer shows its signing secret once",
    opt={"scope": "admin"},
)
async def create_webhook(
    request: Request,
    tenant: NamedDependency[str],
    settings: NamedDependency[GatewaySettings],
    bus: NamedDependency[Bus],
    fresh: NamedDependency[FreshReads],
    quotas: NamedDependency[Quotas],
    data: JSONBody[ws.WebhookCreate],
    idempotency_key: IdempotencyKey = None,
) -> ws.WebhookCreated:
    check_strings(data, "")
    events, description = check_events(data.events), check_description(data.description)
    url = await _checked_url(data.url, settings)  # last: the one check that asks DNS
    ids = await reserve(
        bus.js,
        tenant,
        "webhooks",
        idempotency_key,
        fingerprint(url, events, description),
        lambda: {"endpoint_id": new_id(), "secret": new_secret()},
    )
    endpoint_id, secret = str(ids["endpoint_id"]), str(ids["secret"])
    command = wh.CreateWebhookEndpoint(
        endpoint_id=endpoint_id, url=url, events=events, description=description, secret=secret
    )
    async with quotas.webhook_creation(tenant):
        await _send(request, bus, command, tenant, f"wh-create:{endpoint_id}")
        with contextlib.suppress(NotFound):  # projected late: the count may lag for a moment, the create stands
            await _endpoint(fresh, tenant, endpoint_id)
    now = datetime.now(UTC)
    return ws.WebhookCreated(
        endpoint_id=endpoint_id,
        url=url,
        events=events,
        description=description,
        status="enabled",
        secret=secret,
        created_at=now,
        updated_at=now,
    )


@get("/webhooks", summary="List the tenant's webhook endpoints, newest first", opt={"scope": "admin"})
async def list_webhooks(
    tenant: NamedDependency[str],
    readmodels: NamedDependency[ReadModels],
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> ws.WebhookPage:
    before = decode_cursor(cursor) if cursor else None
    rows = await webhook_reads.endpoints(readmodels.pool, tenant, limit + 1, before)
    return ws.WebhookPage.of(rows, limit, ws.webhook_view, lambda r: encode_cursor(str(r.endpoint_id)))


@get("/webhooks/{endpoint_id:str}", summary="A webhook endpoint (without its secret)", opt={"scope": "admin"})
async def get_webhook(
    tenant: NamedDependency[str], fresh: NamedDependency[FreshReads], endpoint_id: WebhookId
) -> ws.Webhook:
    return ws.webhook_view(await _endpoint(fresh, tenant, endpoint_id))


@patch(
    "/webhooks/{endpoint_id:str}",
    status_code=202,
    summary="Change a webhook endpoint, or enable or disable it",
    opt={"scope": "admin"},
)
async def update_webhook(
    request: Request,
    tenant: NamedDependency[str],
    settings: NamedDependency[GatewaySettings],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    endpoint_id: WebhookId,
    data: JSONBody[ws.WebhookUpdate],
) -> ws.Webhook:
    check_strings(data, "")
    row = await _endpoint(fresh, tenant, endpoint_id)
    command = wh.UpdateWebhookEndpoint(
        endpoint_id=row.endpoint_id,
        url=await _checked_url(data.url, settings) if data.url is not None else None,
        events=check_events(data.events) if data.events is not None else None,
        description=check_description(data.description) if data.description is not None else None,
        enabled=data.enabled,
    )
    await _send(request, bus, command, tenant, f"wh-update:{new_id()}")
    view = ws.webhook_view(row)
    view.url, view.events = command.url or view.url, command.events or view.events
    view.description = command.description if command.description is not None else view.description
    if data.enabled is not None:
        view.status = "enabled" if data.enabled else "disabled"
        view.disabled_reason = None if data.enabled else "disabled through the API"
    return view


@delete(
    "/webhooks/{endpoint_id:str}",
    status_code=202,
    summary="Delete a webhook endpoint; its deliveries stop",
    opt={"scope": "admin"},
)
async def delete_webhook(
    request: Request,
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    endpoint_id: WebhookId,
) -> ws.WebhookAccepted:
    row = await _endpoint(fresh, tenant, endpoint_id)
    command = wh.DeleteWebhookEndpoint(endpoint_id=row.endpoint_id)
    await _send(request, bus, command, tenant, f"wh-delete:{row.endpoint_id}")
    return ws.WebhookAccepted(endpoint_id=row.endpoint_id, status="deleting")


@post(
    "/webhooks/{endpoint_id:str}/test",
    status_code=202,
    summary="Send a test event (`webhook.test`) to the endpoint",
    opt={"scope": "admin"},
)
async def send_test_webhook(
    request: Request,
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    quotas: NamedDependency[Quotas],
    endpoint_id: WebhookId,
) -> ws.WebhookTestAccepted:
    row = _enabled(await _endpoint(fresh, tenant, endpoint_id))
    quotas.webhook_sends.take(tenant)
    test_id = new_id()
    await _send(
        request, bus, wh.SendTestWebhook(endpoint_id=row.endpoint_id, test_id=test_id), tenant, f"wh-test:{test_id}"
    )
    return ws.WebhookTestAccepted(endpoint_id=row.endpoint_id, test_id=test_id)


def _enabled(row: WebhookEndpointRow) -> WebhookEndpointRow:
    if row.status != "enabled":
        raise Conflict("webhook_disabled", f"the endpoint is disabled ({row.disabled_reason}); enable it first")
    return row


@post(
    "/webhooks/{endpoint_id:str}/rotate-secret",
    status_code=202,
    summary="Rotate the signing secret, with an overlap",
    opt={"scope": "admin"},
)
async def rotate_webhook_secret(
    request: Request,
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    endpoint_id: WebhookId,
    data: JSONBody[ws.SecretRotation | None] = None,
) -> ws.SecretRotated:
    overlap_s = check_overlap((data or ws.SecretRotation()).overlap_s)
    row = await _endpoint(fresh, tenant, endpoint_id)
    secret, until = new_secret(), datetime.now(UTC) + timedelta(seconds=overlap_s)
    command = wh.RotateWebhookSecret(endpoint_id=row.endpoint_id, secret=secret, previous_valid_until=until.isoformat())
    await _send(request, bus, command, tenant, f"wh-rotate:{new_id()}")
    return ws.SecretRotated(endpoint_id=row.endpoint_id, secret=secret, previous_secret_valid_until=until)


@get(
    "/webhooks/{endpoint_id:str}/deliveries",
    summary="The endpoint's deliveries, newest first, with every attempt",
    opt={"scope": "admin"},
)
async def list_webhook_deliveries(
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    endpoint_id: WebhookId,
    limit: Annotated[int, Parameter(ge=1, le=100)] = 50,
) -> ws.DeliveryList:
    row = await _endpoint(fresh, tenant, endpoint_id)
    pool = fresh.readmodels.pool
    rows = await webhook_reads.deliveries(pool, tenant, row.endpoint_id, limit)
    attempts = await webhook_reads.attempts(pool, tenant, [r.delivery_id for r in rows])
    return ws.DeliveryList(items=[ws.delivery_view(r, attempts.get(r.delivery_id, [])) for r in rows])


@post(
    "/webhooks/{endpoint_id:str}/deliveries/{delivery_id:str}/redeliver",
    status_code=202,
    summary="Send a delivery again, with its original `webhook-id`",
    opt={"scope": "admin"},
)
async def redeliver_webhook(
    request: Request,
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    quotas: NamedDependency[Quotas],
    endpoint_id: WebhookId,
    delivery_id: DeliveryId,
) -> ws.RedeliveryAccepted:
    row = _enabled(await _endpoint(fresh, tenant, endpoint_id))
    quotas.webhook_sends.take(tenant)
    original = await webhook_reads.delivery(
        fresh.readmodels.pool, tenant, row.endpoint_id, valid_id(delivery_id, "delivery")
    )
    if original is None:
        raise not_found("delivery")
    command = wh.RedeliverWebhook(
        endpoint_id=row.endpoint_id,
        delivery_id=new_id(),
        original_delivery_id=original.delivery_id,
        webhook_id=original.webhook_id,
        event_type=original.event_type,
        resource_id=original.resource_id,
        payload=original.payload,
    )
    await _send(request, bus, command, tenant, f"wh-redeliver:{command.delivery_id}")
    return ws.RedeliveryAccepted(
        endpoint_id=row.endpoint_id,
        delivery_id=command.delivery_id,
        redelivery_of=original.delivery_id,
        webhook_id=original.webhook_id,
    )
