"""Idempotency-Key: the first request with a key reserves the ids its effects will carry.

A retry with the same key and the same body gets the same ids, and redoes only
idempotent steps (storing the same blob, publishing a deduplicated command that
the decider ignores if already applied), so a request that died halfway is
completed by its retry and never doubled. The same key with another body is a 409.
"""

import hashlib
from collections.abc import Callable

import msgspec
from nats.js import JetStreamContext
from nats.js.errors import KeyWrongLastSequenceError

from voxledger.contracts.streams import IDEMPOTENCY_BUCKET
from voxledger.gateway.domain.errors import Conflict, Malformed
from voxledger.gateway.domain.validation import check_text

MAX_KEY_LENGTH = 255


class Reservation(msgspec.Struct):
    fingerprint: str
    ids: dict[str, str | None]


async def reserve(
    js: JetStreamContext, tenant: str, route: str, key: str | None, fingerprint: str, new_ids: Callable[[], dict]
) -> dict[str, str | None]:
    """The ids this request's effects carry: fresh ones, or those an earlier request with the key reserved."""
    if key is None:
        return new_ids()
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        detail = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters"
        raise Malformed("invalid_idempotency_key", detail, field="Idempotency-Key")
    check_text(key, "Idempotency-Key", MAX_KEY_LENGTH)
    kv = await js.key_value(IDEMPOTENCY_BUCKET)
    slot = hashlib.sha256(f"{tenant}\0{route}\0{key}".encode()).hexdigest()
    ids = new_ids()
    try:
        await kv.create(slot, msgspec.json.encode(Reservation(fingerprint, ids)))
        return ids
    except KeyWrongLastSequenceError:
        entry = await kv.get(slot)
    earlier = msgspec.json.decode(entry.value or b"", type=Reservation)  # created with a value, never empty
    if earlier.fingerprint != fingerprint:
        raise Conflict("idempotency_key_reused", "this Idempotency-Key was used with a different request body")
    return earlier.ids


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(msgspec.json.encode(parts)).hexdigest()
