"""Webhook endpoints and deliveries in the read models. The signing secret never reaches a row."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from voxledger.contracts import webhooks as wh
from voxledger.contracts.envelope import Envelope
from voxledger.projector.domain.ops import InsertMany, Op, Row, Update, Upsert


def _endpoint(meta: Envelope, seq: int, values: Row) -> Update:
    return Update(
        "webhook_endpoints",
        {"endpoint_id": meta.aggregate_id},
        {**values, "updated_at": meta.occurred_at, "last_seq": seq},
    )


def _created(meta: Envelope, event: wh.WebhookEndpointCreated, seq: int) -> list[Op]:
    values = {
        "tenant_id": meta.tenant_id,
        "url": event.url,
        "events": list(event.events),
        "description": event.description,
        "status": "enabled",
        "created_at": meta.occurred_at,
        "updated_at": meta.occurred_at,
        "last_seq": seq,
    }
    return [Upsert("webhook_endpoints", {"endpoint_id": meta.aggregate_id}, values)]


def _updated(meta: Envelope, event: wh.WebhookEndpointUpdated, seq: int) -> list[Op]:
    values: Row = {}
    if event.url is not None:
        values["url"] = event.url
    if event.events is not None:
        values["events"] = list(event.events)
    if event.description is not None:
        values["description"] = event.description
    if event.enabled:
        values |= {"status": "enabled", "disabled_reason": None}
    return [_endpoint(meta, seq, values)]


def _disabled(meta: Envelope, event: wh.WebhookEndpointDisabled, seq: int) -> list[Op]:
    return [_endpoint(meta, seq, {"status": "disabled", "disabled_reason": event.reason})]


def _deleted(meta: Envelope, event: wh.WebhookEndpointDeleted, seq: int) -> list[Op]:
    return [_endpoint(meta, seq, {"status": "deleted"})]


def _rotated(meta: Envelope, event: wh.WebhookSecretRotated, seq: int) -> list[Op]:
    until = datetime.fromisoformat(event.previous_valid_until)
    return [_endpoint(meta, seq, {"secret_rotated_at": meta.occurred_at, "previous_secret_valid_until": until})]


def _delivery(meta: Envelope, event: wh.WebhookDeliveryAttempted | wh.WebhookDeliveryDropped, seq: int) -> Row:
    return {
        "tenant_id": meta.tenant_id,
        "endpoint_id": event.endpoint_id,
        "webhook_id": event.webhook_id,
        "event_type": event.event_type,
        "resource_id": event.resource_id,
        "payload": event.payload,
        "created_at": datetime.fromisoformat(event.first_attempt_at) if event.first_attempt_at else meta.occurred_at,
        "updated_at": meta.occurred_at,
        "last_seq": seq,
    }


def _attempted(meta: Envelope, event: wh.WebhookDeliveryAttempted, seq: int) -> list[Op]:
    retry_at = datetime.fromisoformat(event.next_retry_at) if event.next_retry_at else None
    delivery = {
        **_delivery(meta, event, seq),
        "status": event.outcome,
        "attempts": event.attempt,
        "last_status_code": event.status_code,
        "last_error": event.error,
        "last_latency_ms": event.latency_ms,
        "next_retry_at": retry_at,
        "redelivery_of": event.redelivery_of,
    }
    attempt = {
        "delivery_id": meta.aggregate_id,
        "attempt": event.attempt,
        "tenant_id": meta.tenant_id,
        "outcome": event.outcome,
        "status_code": event.status_code,
        "error": event.error,
        "latency_ms": event.latency_ms,
        "response_excerpt": event.response_excerpt,
        "next_retry_at": retry_at,
        "attempted_at": meta.occurred_at,
    }
    return [
        Upsert("webhook_deliveries", {"delivery_id": meta.aggregate_id}, delivery),
        InsertMany("webhook_attempts", [attempt]),
    ]


def _dropped(meta: Envelope, event: wh.WebhookDeliveryDropped, seq: int) -> list[Op]:
    values = {**_delivery(meta, event, seq), "status": "dropped", "drop_reason": event.reason, "next_retry_at": None}
    return [Upsert("webhook_deliveries", {"delivery_id": meta.aggregate_id}, {**values, "attempts": event.attempts})]


PROJECTORS: dict[type, Callable[[Envelope, Any, int], list[Op]]] = {
    wh.WebhookEndpointCreated: _created,
    wh.WebhookEndpointUpdated: _updated,
    wh.WebhookEndpointDisabled: _disabled,
    wh.WebhookEndpointDeleted: _deleted,
    wh.WebhookSecretRotated: _rotated,
    wh.WebhookDeliveryAttempted: _attempted,
    wh.WebhookDeliveryDropped: _dropped,
}
# The events endpoint commands lead to: a read-your-writes token is satisfied once one is projected.
COMMAND_EFFECTS = (
    wh.WebhookEndpointCreated,
    wh.WebhookEndpointUpdated,
    wh.WebhookEndpointDisabled,
    wh.WebhookEndpointDeleted,
    wh.WebhookSecretRotated,
    wh.WebhookTestRequested,
    wh.WebhookRedeliveryRequested,
)
