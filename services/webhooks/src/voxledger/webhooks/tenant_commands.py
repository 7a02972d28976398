"""The tenant command handler: appends a tenant's settings events (retention) for the gateways.

It runs in the webhooks process next to the key command handler. A command that changes nothing appends
nothing, so a redelivery has no second effect.
"""

import structlog
from faststream.nats import NatsMessage
from nats.js import JetStreamContext

from voxledger.contracts import subjects
from voxledger.contracts.envelope import seal
from voxledger.contracts.retention import ChangeRetention, RetentionChanged
from voxledger.runtime.consumers import decode_or_reject
from voxledger.runtime.eventstore import ConcurrencyConflict, EventStore

log = structlog.get_logger(__name__)
TRANSIENT_RETRY_S = 1.0


class TenantCommands:
    def __init__(self, js: JetStreamContext):
        self._store = EventStore(js)

    async def on_command(self, msg: NatsMessage) -> None:
        if (message := await decode_or_reject(msg)) is None:
            return
        command, tenant = message.body, message.envelope.tenant_id
        if not isinstance(command, ChangeRetention):  # the consumer's filter admits tenant commands only
            raise TypeError(f"not a tenant command: {message.envelope.type}")
        try:
            history, seq = await self._store.load(subjects.TENANT, tenant)
            latest = next((m.body for m in reversed(history) if isinstance(m.body, RetentionChanged)), None)
            if latest is None or latest.retention_days != command.retention_days:
                event = seal(
                    RetentionChanged(retention_days=command.retention_days),
                    aggregate_id=tenant,
                    tenant_id=tenant,
                    causation_id=message.envelope.event_id,
                )
                await self._store.append(subjects.TENANT, tenant, [event], seq)
        except ConcurrencyConflict:
            await msg.nack(delay=0.1)  # another change landed first: decide again on the redelivery
            return
        except Exception:
            log.exception("tenant.command_failed_transiently", type=message.envelope.type)
            await msg.nack(delay=TRANSIENT_RETRY_S)
            return
        log.info("tenant.retention_changed", tenant=tenant, retention_days=command.retention_days)
        await msg.ack()
