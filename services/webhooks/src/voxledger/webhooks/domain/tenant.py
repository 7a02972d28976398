"""A tenant's settings (retention) as a Decider: a command that changes nothing decides nothing."""

import msgspec

from voxledger.contracts.decisions import Decider
from voxledger.contracts.events import Event
from voxledger.contracts.retention import ChangeRetention, RetentionChanged, TenantEvent


class TenantSettings(msgspec.Struct, frozen=True, kw_only=True):
    retention: RetentionChanged | None = None  # the latest retention change; None: never changed


def evolve(state: TenantSettings, event: TenantEvent | Event) -> TenantSettings:
    return TenantSettings(retention=event) if isinstance(event, RetentionChanged) else state


def decide(command: ChangeRetention, state: TenantSettings) -> list[TenantEvent]:
    if state.retention is not None and state.retention.retention_days == command.retention_days:
        return []  # a redelivery, or no change
    return [RetentionChanged(retention_days=command.retention_days)]


DECIDER: Decider[ChangeRetention, TenantEvent, TenantSettings] = Decider(
    initial=TenantSettings(), decide=decide, evolve=evolve
)
