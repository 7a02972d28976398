"""Which endpoints want which events: every endpoint's subscription, folded from the log, with no IO.

Each endpoint remembers the stream sequence it was created at: an event is fanned out only to endpoints
that existed before it, whatever moment the fan-out runs at.
"""

import msgspec

from voxledger.contracts import webhooks as wh
from voxledger.contracts.events import Event


class Subscription(msgspec.Struct, kw_only=True):
    tenant_id: str
    events: list[str]
    created_seq: int
    enabled: bool = True
    deleted: bool = False


class Registry:
    def __init__(self) -> None:
        self.endpoints: dict[str, Subscription] = {}
        self.seen_seq = 0  # the newest endpoint event folded in

    def apply(self, seq: int, endpoint_id: str, tenant_id: str, event: Event) -> None:
        if seq <= self.seen_seq:
            return  # already folded in (a redelivery to the follower)
        self.seen_seq = seq
        found = self.endpoints.get(endpoint_id)
        match event:
            case wh.WebhookEndpointCreated(events=events):
                self.endpoints[endpoint_id] = Subscription(tenant_id=tenant_id, events=list(events), created_seq=seq)
            case wh.WebhookEndpointUpdated(events=events, enabled=enabled) if found is not None:
                found.events = list(events) if events is not None else found.events
                found.enabled = True if enabled else found.enabled
            case wh.WebhookEndpointDisabled() if found is not None:
                found.enabled = False
            case wh.WebhookEndpointDeleted() if found is not None:
                found.deleted = True

    def subscribers(self, tenant_id: str, event_type: str, before_seq: int) -> list[str]:
        """The tenant's live endpoints subscribed to `event_type` that existed before `before_seq`, in id order."""
        return sorted(
            endpoint_id
            for endpoint_id, s in self.endpoints.items()
            if s.tenant_id == tenant_id
            and s.enabled
            and not s.deleted
            and s.created_seq < before_seq
            and event_type in s.events
        )
