"""Retention: a tenant's recordings older than N days are deleted, as delete commands through the log.

The gateway sends ChangeRetention (admin scope); the tenant command handler (in the webhooks process, with
the key command handler) appends RetentionChanged on the tenant's aggregate; the retention scheduler (one
gateway at a time, under a lease) reads the latest RetentionChanged of every tenant and sends
DeleteRecording for each recording past it, which erases it exactly as DELETE does.
"""

from voxledger.contracts.commands import Command
from voxledger.contracts.events import Event, event_types


class ChangeRetention(Command):
    retention_days: int | None  # None: recordings are kept until deleted


class RetentionChanged(Event):
    retention_days: int | None


COMMAND_TYPES: dict[str, type[Command]] = {"ChangeRetention": ChangeRetention}
TenantEvent = RetentionChanged  # a tenant's settings aggregate: its one event type so far
EVENT_TYPES: dict[str, type[Event]] = event_types(TenantEvent)
