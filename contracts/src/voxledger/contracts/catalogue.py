"""The event catalogue: every event type on the EVENTS stream, derived from one union per aggregate."""

from typing import Any

from voxledger.contracts import events, retention, subjects, webhooks
from voxledger.contracts.events import Event, event_types

# Aggregate (its subject token) -> the union of every event type its stream holds.
AGGREGATE_EVENTS: dict[str, Any] = {
    subjects.RECORDING: events.RecordingEvent,
    subjects.API_KEY: events.ApiKeyEvent,
    subjects.WEBHOOK: webhooks.EndpointEvent,
    subjects.WEBHOOK_DELIVERY: webhooks.DeliveryEvent,
    subjects.TENANT: retention.TenantEvent,
}

EVENT_TYPES: dict[str, type[Event]] = event_types(*AGGREGATE_EVENTS.values())
