"""The webhook endpoint aggregate as a pure Decider: what a command makes true, from the endpoint's history.

Repeating a command (a redelivered message) decides nothing new, so replay and redelivery are harmless.
"""

from datetime import datetime

import msgspec
from msgspec.structs import replace

from voxledger.contracts import webhooks as wh
from voxledger.contracts.decisions import Decider, Rejected
from voxledger.contracts.events import Event


class Endpoint(msgspec.Struct, frozen=True, kw_only=True):
    exists: bool = False
    deleted: bool = False
    enabled: bool = True
    disabled_reason: str | None = None
    url: str = ""
    events: list[str] = msgspec.field(default_factory=list)
    description: str = ""
    secret: str = ""
    previous_secret: str | None = None
    previous_valid_until: str | None = None
    requested: frozenset[str] = frozenset()  # test and redelivery ids already decided

    @property
    def live(self) -> bool:
        return self.exists and not self.deleted

    def secrets(self, now: datetime) -> list[str]:
        """The secrets a delivery is signed with now: the current one, and the previous one while it overlaps."""
        if (
            self.previous_secret
            and self.previous_valid_until
            and now < datetime.fromisoformat(self.previous_valid_until)
        ):
            return [self.secret, self.previous_secret]
        return [self.secret]


class DisableEndpoint(msgspec.Struct, kw_only=True):
    """The delivery side's intent: the receiver is gone (410) or has failed for too long."""

    reason: str


EndpointCommand = (
    wh.CreateWebhookEndpoint
    | wh.UpdateWebhookEndpoint
    | wh.DeleteWebhookEndpoint
    | wh.RotateWebhookSecret
    | wh.SendTestWebhook
    | wh.RedeliverWebhook
    | DisableEndpoint
)


def evolve(state: Endpoint, event: Event) -> Endpoint:
    match event:
        case wh.WebhookEndpointCreated(url=url, events=events, description=description, secret=secret):
            return replace(state, exists=True, url=url, events=events, description=description, secret=secret)
        case wh.WebhookEndpointUpdated():
            updated = replace(
                state,
                url=event.url if event.url is not None else state.url,
                events=event.events if event.events is not None else state.events,
                description=event.description if event.description is not None else state.description,
            )
            return replace(updated, enabled=True, disabled_reason=None) if event.enabled else updated
        case wh.WebhookEndpointDisabled(reason=reason):
            return replace(state, enabled=False, disabled_reason=reason)
        case wh.WebhookEndpointDeleted():
            return replace(state, deleted=True)
        case wh.WebhookSecretRotated(secret=secret, previous_valid_until=until):
            return replace(state, previous_secret=state.secret, previous_valid_until=until, secret=secret)
        case wh.WebhookTestRequested(test_id=request_id) | wh.WebhookRedeliveryRequested(delivery_id=request_id):
            return replace(state, requested=state.requested | {request_id})
    return state


def fold(history: list[Event]) -> Endpoint:
    return DECIDER.fold(history)


def decide(command: EndpointCommand, state: Endpoint) -> list[Event]:
    if isinstance(command, wh.CreateWebhookEndpoint):
        return _create(command, state)
    if not state.live:
        if isinstance(command, DisableEndpoint | wh.DeleteWebhookEndpoint) and state.deleted:
            return []  # already gone: nothing left to do
        raise Rejected("webhook_not_found", "no such webhook endpoint")
    match command:
        case wh.UpdateWebhookEndpoint():
            return _update(command, state)
        case wh.DeleteWebhookEndpoint():
            return [wh.WebhookEndpointDeleted()]
        case wh.RotateWebhookSecret(secret=secret, previous_valid_until=until):
            return (
                [] if secret == state.secret else [wh.WebhookSecretRotated(secret=secret, previous_valid_until=until)]
            )
        case DisableEndpoint(reason=reason):
            return [wh.WebhookEndpointDisabled(reason=reason)] if state.enabled else []
    return _send(command, state)


def _create(command: wh.CreateWebhookEndpoint, state: Endpoint) -> list[Event]:
    if state.exists:
        if state.secret == command.secret:
            return []  # the same command again
        raise Rejected("webhook_exists", "an endpoint with this id exists")
    return [
        wh.WebhookEndpointCreated(
            url=command.url, events=command.events, description=command.description, secret=command.secret
        )
    ]


def _update(command: wh.UpdateWebhookEndpoint, state: Endpoint) -> list[Event]:
    changes = wh.WebhookEndpointUpdated(
        url=command.url if command.url not in (None, state.url) else None,
        events=command.events if command.events not in (None, state.events) else None,
        description=command.description if command.description not in (None, state.description) else None,
        enabled=True if command.enabled and not state.enabled else None,
    )
    produced: list[Event] = []
    if changes != wh.WebhookEndpointUpdated():
        produced.append(changes)
    if command.enabled is False and state.enabled:
        produced.append(wh.WebhookEndpointDisabled(reason="disabled through the API"))
    return produced


def _send(command: wh.SendTestWebhook | wh.RedeliverWebhook, state: Endpoint) -> list[Event]:
    if not state.enabled:
        raise Rejected("webhook_disabled", "the endpoint is disabled; enable it first")
    if isinstance(command, wh.SendTestWebhook):
        return [] if command.test_id in state.requested else [wh.WebhookTestRequested(test_id=command.test_id)]
    if command.delivery_id in state.requested:
        return []
    return [
        wh.WebhookRedeliveryRequested(
            delivery_id=command.delivery_id,
            original_delivery_id=command.original_delivery_id,
            webhook_id=command.webhook_id,
            event_type=command.event_type,
            resource_id=command.resource_id,
            payload=command.payload,
        )
    ]


DECIDER: Decider[EndpointCommand, Event, Endpoint] = Decider(initial=Endpoint(), decide=decide, evolve=evolve)
