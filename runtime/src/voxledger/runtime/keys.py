"""API keys: make one, and append its lifecycle events. The CLI and the gateway's /v1/keys routes share this.

Keys are 256-bit random, so a fast hash is enough; only the hash is ever stored or sent.
"""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext

from voxledger.contracts import envelope, subjects
from voxledger.contracts.envelope import seal
from voxledger.contracts.events import ApiKeyIssued, ApiKeyUsed, KeyScope
from voxledger.contracts.ids import new_id
from voxledger.runtime import api_key
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.api_key import ApiKey, IssueKey, RevokeKey
from voxledger.runtime.broker import message_headers
from voxledger.runtime.eventstore import EventStore

KEY_PREFIX = "vl_"
PREFIX_CHARS = 10  # what lists show of a key: enough to recognise it, far too little to guess it
SCOPES: tuple[KeyScope, ...] = ("admin", "member", "read")


class NewKey:
    def __init__(self, key_id: str, secret: str, event: ApiKeyIssued):
        self.key_id, self.secret, self.event = key_id, secret, event


def key_status(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> str:
    """active, expired or revoked, from a read-model row's times (a rotated key is active until its overlap ends)."""
    if revoked_at is not None and revoked_at <= now:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def check_tenant(tenant: str) -> str:
    if not tenant or len(tenant) > 64 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in tenant):
        raise ValueError("tenant must be 1 to 64 letters, digits, '-' or '_'")
    return tenant


def new_key(label: str, scope: KeyScope, expires_at: datetime | None = None) -> NewKey:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    event = ApiKeyIssued(
        key_hash=hash_key(secret), prefix=secret[:PREFIX_CHARS], label=label, scope=scope, expires_at=expires_at
    )
    return NewKey(new_id(), secret, event)


def _repository(store: EventStore) -> AggregateRepository[ApiKey]:
    return AggregateRepository(store, subjects.API_KEY, api_key.DECIDER)


async def issue(store: EventStore, tenant: str, key_id: str, event: ApiKeyIssued) -> None:
    """Appends the key's ApiKeyIssued, its first event; a key already issued (a redelivery) stays as it is."""
    repo = _repository(store)
    await repo.execute(await repo.load(key_id), IssueKey(event=event), tenant_id=check_tenant(tenant))


async def revoke(
    store: EventStore,
    key_id: str,
    tenant: str | None = None,
    effective_at: datetime | None = None,
    replaced_by: str | None = None,
) -> bool:
    """Appends ApiKeyRevoked unless already revoked by then; False for a key unknown (to `tenant`, if given).

    Another writer (a last-use report) may append in between: the repository reloads and decides again.
    """
    repo = _repository(store)
    loaded = await repo.load(key_id)
    if loaded.state.issued is None or (tenant is not None and loaded.owner != tenant):
        return False
    revocation = RevokeKey(effective_at=effective_at or datetime.now(UTC), replaced_by=replaced_by)
    await repo.execute(loaded, revocation)  # the key's own tenant, whoever asks
    return True


async def rotate(
    store: EventStore, tenant: str, key_id: str, new_key_id: str, key_hash: str, prefix: str, overlap_s: float
) -> bool:
    """A new key like the old one (label, scope, expiry), then the old one revoked once the overlap ends.

    Both appends are idempotent, so a redelivered rotation finishes what a first try began.
    """
    loaded = await _repository(store).load(key_id)
    old = loaded.state.issued
    if old is None or loaded.owner != tenant:
        return False
    new = ApiKeyIssued(key_hash=key_hash, prefix=prefix, label=old.label, scope=old.scope, expires_at=old.expires_at)
    await issue(store, tenant, new_key_id, new)
    until = datetime.now(UTC) + timedelta(seconds=overlap_s)
    return await revoke(store, key_id, tenant, until, replaced_by=new_key_id)


async def record_use(js: JetStreamContext, tenant: str, key_id: str, at: datetime) -> None:
    """Appends ApiKeyUsed without a sequence check: it decides nothing, so it never needs to conflict."""
    message = seal(ApiKeyUsed(at=at), aggregate_id=key_id, tenant_id=tenant)
    subject = subjects.event_subject(subjects.API_KEY, key_id, message.envelope.type)
    await js.publish(subject, envelope.encode(message), headers=message_headers(message))
