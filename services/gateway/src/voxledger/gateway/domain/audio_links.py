"""Capability links to one recording's audio, like presigned URLs: `?link=<token>` stands in for the API key.

An `<audio src>` cannot send an Authorization header and the key must never be in a URL (URLs end up in
logs, history and Referer headers), so the player gets a link that opens one recording's audio, for minutes.

The token is `<claims>.<mac>`, both base64url: the claims (tenant, the key that asked, expiry in Unix seconds)
in JSON, and an HMAC-SHA256 over the recording id and the claims. The HMAC key is derived from the deployment's
master key (HKDF, its own `info`), so every gateway verifies any gateway's links with no shared state and no
new secret. The claims are signed, not hidden: they name a tenant and a key id, never a secret.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Sequence

import msgspec

# The HKDF label: these subkeys serve audio links only, whatever else is derived from the master key.
HKDF_INFO = b"voxledger audio links v1"
MAX_TOKEN_CHARS = 512  # a real token is about 150: a longer one is refused unread
_PURPOSE = b"voxledger/audio-link\0"


class LinkClaims(msgspec.Struct, frozen=True, array_like=True):
    tenant: str
    key_id: str
    expires: int  # Unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, recording_id: str, claims: str) -> bytes:
    return hmac.new(key, _PURPOSE + recording_id.encode() + b"\0" + claims.encode(), hashlib.sha256).digest()


class AudioLinks:
    """Signs with the current key, verifies with every key `keys` gives (the current first: see MasterKeys)."""

    def __init__(self, keys: Callable[[], Sequence[bytes]]):
        self._keys = keys

    def sign(self, recording_id: str, claims: LinkClaims) -> str:
        encoded = _b64(msgspec.json.encode(claims))
        return f"{encoded}.{_b64(_mac(self._keys()[0], recording_id, encoded))}"

    def verify(self, token: str, recording_id: str, now: float) -> LinkClaims | None:
        """The claims of a token made for this recording and not yet expired; None for anything else."""
        encoded, dot, mac = token.partition(".")
        if not dot or len(token) > MAX_TOKEN_CHARS or not token.isascii():
            return None
        try:
            given = _unb64(mac)
            if not any(hmac.compare_digest(_mac(key, recording_id, encoded), given) for key in self._keys()):
                return None
            claims = msgspec.json.decode(_unb64(encoded), type=LinkClaims)
        except (binascii.Error, ValueError, msgspec.DecodeError):
            return None
        return claims if now < claims.expires else None
