"""How a message becomes bytes and back: through the vault (content sealed per recording) or in clear.

The stores and publishers take an optional vault; `codec` is the one place that chooses for them."""

from typing import Protocol

from voxledger.contracts import envelope, sealing
from voxledger.contracts.envelope import Message


class Codec(Protocol):
    """What the vault offers writers and readers of messages (`voxledger.runtime.vault.Vault` is one)."""

    async def encode(self, message: Message) -> bytes: ...

    async def decode(self, payload: bytes) -> Message: ...


class ClearCodec:
    """No vault: everything is written in clear; `ciphers` decides how sealed fields read back."""

    def __init__(self, ciphers: sealing.CipherLookup | None = None):
        self._ciphers = ciphers

    async def encode(self, message: Message) -> bytes:
        return envelope.encode(message)

    async def decode(self, payload: bytes) -> Message:
        return envelope.decode(payload, self._ciphers)


CLEAR = ClearCodec()
# For consumers that need no content: sealed fields read blank instead of failing.
CONTENT_BLIND = ClearCodec(sealing.without_content)


def codec(vault: Codec | None, without: Codec = CLEAR) -> Codec:
    """The vault when there is one, else `without`."""
    return vault if vault is not None else without
