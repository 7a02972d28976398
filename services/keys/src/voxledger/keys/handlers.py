"""The key command handler: the one service that appends key events for the gateways.

It runs in a process of its own, so that it alone holds the `keys` NATS identity, the only one allowed to
publish to the key event subjects. Every command is idempotent, so a redelivery has no second effect. The
frame around each (decode, trace, settle the message) is runtime/messaging.py; the log context and span,
runtime/commands.py.
"""

from nats.js import JetStreamContext

from voxledger.contracts import key_commands as kc
from voxledger.contracts.decisions import Rejected
from voxledger.contracts.envelope import Envelope, Message
from voxledger.contracts.events import ApiKeyIssued
from voxledger.runtime import keys
from voxledger.runtime.commands import handle_command
from voxledger.runtime.eventstore import EventStore


class KeyCommands:
    def __init__(self, js: JetStreamContext):
        self._js, self._store = js, EventStore(js)

    async def on_command(self, message: Message) -> None:
        await handle_command(message, kc.KeyCommand, self._run, bind=lambda cmd: {"key_id": cmd.key_id})

    async def _run(self, command: kc.KeyCommand, cause: Envelope) -> list[Message]:
        if not await self._apply(command, cause.tenant_id):
            # The gateway checked the key's tenant already: only a forged or stale command lands here.
            raise Rejected("unknown_key", "no such key of this tenant")
        return []  # the key functions append (or find appended) the events themselves

    async def _apply(self, command: kc.KeyCommand, tenant: str) -> bool:
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
