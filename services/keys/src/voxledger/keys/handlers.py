"""The key command handler: the one service that appends key events for the gateways.

It runs in a process of its own, so that it alone holds the `keys` NATS identity, the only one allowed to
publish to the key event subjects. Every command is idempotent, so a redelivery has no second effect.
"""

import structlog
from faststream.nats import NatsMessage
from nats.js import JetStreamContext

from voxledger.contracts import key_commands as kc
from voxledger.contracts.events import ApiKeyIssued
from voxledger.runtime import keys
from voxledger.runtime.consumers import decode_or_reject
from voxledger.runtime.eventstore import EventStore

log = structlog.get_logger(__name__)
TRANSIENT_RETRY_S = 1.0


class KeyCommands:
    def __init__(self, js: JetStreamContext):
        self._js, self._store = js, EventStore(js)

    async def on_command(self, msg: NatsMessage) -> None:
        if (message := await decode_or_reject(msg)) is None:
            return
        command, tenant = message.body, message.envelope.tenant_id
        try:
            done = await self._apply(command, tenant)
        except Exception:
            log.exception("keys.command_failed_transiently", type=message.envelope.type)
            await msg.nack(delay=TRANSIENT_RETRY_S)
            return
        if not done:  # the gateway checked the key's tenant already: only a forged or stale command lands here
            log.warning("keys.command_rejected", type=message.envelope.type, tenant=tenant)
        await msg.ack()

    async def _apply(self, command: object, tenant: str) -> bool:
        match command:
            case kc.IssueApiKey():
                event = ApiKeyIssued(
                    key_hash=command.key_hash,
                    prefix=command.prefix,
                    label=command.label,
                    scope=command.scope,
                    expires_at=command.expires_at,
                )
                await keys.issue(self._store, tenant, command.key_id, event)
                return True
            case kc.RevokeApiKey():
                return await keys.revoke(self._store, command.key_id, tenant)
            case kc.RotateApiKey():
                c = command
                return await keys.rotate(self._store, tenant, c.key_id, c.new_key_id, c.key_hash, c.prefix, c.overlap_s)
            case kc.RecordApiKeyUse():
                await keys.record_use(self._js, tenant, command.key_id, command.at)
                return True
        raise TypeError(f"not a key command: {type(command).__name__}")
