"""Key commands: the gateway asks, the key command handler (in the webhooks process) appends the key events.

The gateway makes a new key's secret and sends only its hash, so the secret is never on the bus.
"""

from datetime import datetime

from voxledger.contracts.commands import Command
from voxledger.contracts.events import KeyScope


class IssueApiKey(Command):
    key_id: str
    key_hash: str
    prefix: str
    label: str
    scope: KeyScope
    expires_at: datetime | None = None


class RevokeApiKey(Command):
    key_id: str


class RotateApiKey(Command):
    """A key like `key_id` (label, scope, expiry) with the new hash; the old one ends after `overlap_s`."""

    key_id: str
    new_key_id: str
    key_hash: str
    prefix: str
    overlap_s: int = 0


class RecordApiKeyUse(Command):
    key_id: str
    at: datetime  # to the minute


KeyCommand = IssueApiKey | RevokeApiKey | RotateApiKey | RecordApiKeyUse

COMMAND_TYPES: dict[str, type[Command]] = {cls.__name__: cls for cls in KeyCommand.__args__}
