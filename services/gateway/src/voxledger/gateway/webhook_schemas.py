"""Request and response bodies of /v1/webhooks, and the views that fill them from rows."""

from datetime import datetime
from typing import Annotated, Any

import msgspec

from voxledger.contracts.readmodels import WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow
from voxledger.contracts.webhooks import WEBHOOK_EVENT_TYPES
from voxledger.gateway.domain.validation import SINGLE_LINE_PATTERN
from voxledger.gateway.domain.webhooks import DEFAULT_OVERLAP_S, MAX_DESCRIPTION_CHARS, MAX_URL_CHARS
from voxledger.gateway.schemas import Page

# As check_url takes it: http(s), a host, no credentials, no fragment, no control characters or spaces.
URL_PATTERN = r"^https?://[^\x00-\x20\x7f/?#@]+(/[^\x00-\x20\x7f#]*)?(\?[^\x00-\x20\x7f#]*)?$"
_URL = msgspec.Meta(
    extra_json_schema={
        "extra": {"format": "uri", "max_length": MAX_URL_CHARS, "pattern": URL_PATTERN},
        "examples": ["https://example.com/hooks"],
    }
)
_EVENTS = msgspec.Meta(
    extra_json_schema={
        "extra": {"min_items": 1, "items": {"type": "string", "enum": list(WEBHOOK_EVENT_TYPES)}},
        "examples": [["transcription.completed", "transcription.failed"]],
    }
)
_DESCRIPTION = msgspec.Meta(
    extra_json_schema={"extra": {"max_length": MAX_DESCRIPTION_CHARS, "pattern": SINGLE_LINE_PATTERN}}
)


class WebhookCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, _URL]
    events: Annotated[list[str], _EVENTS]
    description: Annotated[str, _DESCRIPTION] = ""


class WebhookUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Only the fields given change; `enabled: true` re-enables a disabled endpoint."""

    url: Annotated[str | None, _URL] = None
    events: Annotated[list[str] | None, _EVENTS] = None
    description: Annotated[str | None, _DESCRIPTION] = None
    enabled: bool | None = None


class SecretRotation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    overlap_s: int = DEFAULT_OVERLAP_S  # how long the previous secret still signs deliveries too


class Webhook(msgspec.Struct, kw_only=True):
    endpoint_id: str
    url: str
    events: list[str]
    description: str
    status: str  # enabled, disabled
    disabled_reason: str | None = None
    previous_secret_valid_until: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class WebhookCreated(Webhook, kw_only=True):
    secret: str  # shown here once, never again


class WebhookPage(Page[Webhook]):
    items: list[Webhook]


class WebhookAccepted(msgspec.Struct, kw_only=True):
    endpoint_id: str
    status: str  # deleting, testing


class SecretRotated(msgspec.Struct, kw_only=True):
    endpoint_id: str
    secret: str  # shown here once
    previous_secret_valid_until: datetime


class WebhookTestAccepted(msgspec.Struct, kw_only=True):
    endpoint_id: str
    test_id: str
    event_type: str = "webhook.test"


class RedeliveryAccepted(msgspec.Struct, kw_only=True):
    endpoint_id: str
    delivery_id: str  # the new delivery
    redelivery_of: str
    webhook_id: str  # the original's, so the receiver can deduplicate


class Attempt(msgspec.Struct, kw_only=True):
    attempt: int
    outcome: str  # delivered, retrying, failed
    status_code: int | None
    error: str | None
    latency_ms: float | None
    response_excerpt: str
    next_retry_at: datetime | None
    attempted_at: datetime


class Delivery(msgspec.Struct, kw_only=True):
    delivery_id: str
    webhook_id: str
    event_type: str
    status: str  # retrying, delivered, failed, dropped
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_latency_ms: float | None
    next_retry_at: datetime | None
    redelivery_of: str | None
    drop_reason: str | None
    payload: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    attempt_log: list[Attempt]


class DeliveryList(msgspec.Struct, kw_only=True):
    items: list[Delivery]


KNOWN_EVENTS = list(WEBHOOK_EVENT_TYPES)


def webhook_view(row: WebhookEndpointRow) -> Webhook:
    return msgspec.convert(row, Webhook, from_attributes=True)


def attempt_view(row: WebhookAttemptRow) -> Attempt:
    return msgspec.convert(row, Attempt, from_attributes=True)


def delivery_view(row: WebhookDeliveryRow, attempts: list[WebhookAttemptRow]) -> Delivery:
    log = [msgspec.structs.asdict(a) for a in attempts]
    return msgspec.convert({**msgspec.structs.asdict(row), "attempt_log": log}, Delivery)
