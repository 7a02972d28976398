"""The tenant command handler: appends a tenant's settings events (retention) for the gateways.

It runs in the webhooks process next to the key command handler. A command that changes nothing appends
nothing, so a redelivery has no second effect.
"""

from faststream.nats import NatsMessage
from nats.js import JetStreamContext

from voxledger.contracts import subjects
from voxledger.contracts.envelope import Envelope, Message, seal
from voxledger.contracts.retention import ChangeRetention, RetentionChanged
from voxledger.runtime.commands import handle_command
from voxledger.runtime.eventstore import EventStore


class TenantCommands:
    def __init__(self, js: JetStreamContext):
        self._store = EventStore(js)

    async def on_command(self, msg: NatsMessage) -> None:
        await handle_command(msg, ChangeRetention, self._run)

    async def _run(self, command: ChangeRetention, cause: Envelope) -> list[Message]:
        tenant = cause.tenant_id
        history, seq = await self._store.load(subjects.TENANT, tenant)
        latest = next((m.body for m in reversed(history) if isinstance(m.body, RetentionChanged)), None)
        if latest is not None and latest.retention_days == command.retention_days:
            return []
        changed = seal(
            RetentionChanged(retention_days=command.retention_days),
            aggregate_id=tenant,
            tenant_id=tenant,
            causation_id=cause.event_id,
        )
        await self._store.append(subjects.TENANT, tenant, [changed], seq)  # a conflict: decided again, soon
        return [changed]
