"""The tenant command handler: appends a tenant's settings events (retention) for the gateways.

It runs in the webhooks process next to the key command handler. A command that changes nothing appends
nothing, so a redelivery has no second effect (domain/tenant.py decides).
"""

from nats.js import JetStreamContext

from voxledger.contracts import subjects
from voxledger.contracts.envelope import Envelope, Message
from voxledger.contracts.retention import ChangeRetention
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.commands import handle_command
from voxledger.runtime.eventstore import EventStore
from voxledger.webhooks.domain import tenant


class TenantCommands:
    def __init__(self, js: JetStreamContext):
        self._repo = AggregateRepository(EventStore(js), subjects.TENANT, tenant.DECIDER)

    async def on_command(self, message: Message) -> None:
        await handle_command(message, ChangeRetention, self._run)

    async def _run(self, command: ChangeRetention, cause: Envelope) -> list[Message]:
        return await self._repo.execute(await self._repo.load(cause.tenant_id), command, cause)
