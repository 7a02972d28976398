"""/v1/keys: a tenant's API keys, managed with an admin key (the guard checks the scope).

Each write is one durable key command (`vl.cmd.key.*`); the key command handler (in the webhooks process)
appends the key events, so the gateway never appends to the event subjects. The secret is made here and
only its hash is in the command, so the 202 of a create or a rotation can show the key, once; the key works
as soon as the projector has it (a few ms; a client retries a 401 of a key just issued briefly).
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from litestar import delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from voxledger.contracts import key_commands as kc
from voxledger.contracts import subjects
from voxledger.contracts.readmodels import ApiKeyRow
from voxledger.gateway import key_schemas as ks
from voxledger.gateway.adapters import key_reads
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.domain.errors import Unacceptable
from voxledger.gateway.domain.pagination import decode_cursor, encode_cursor
from voxledger.gateway.domain.validation import check_strings
from voxledger.gateway.handlers.common import FreshReads, valid_id
from voxledger.gateway.http.params import Cursor, KeyId
from voxledger.runtime import keys


async def _key(fresh: FreshReads, tenant: str, key_id: str) -> ApiKeyRow:
    key_id = valid_id(key_id, "key")
    pool = fresh.readmodels.pool
    return await fresh.fetch(lambda: key_reads.key(pool, tenant, key_id), key_id, "key")


async def _send(bus: Bus, command: kc.KeyCommand, tenant: str, dedup_key: str) -> None:
    await bus.send(command, aggregate_id=command.key_id, tenant=tenant, dedup_key=dedup_key, target=subjects.API_KEY)


def _created(key: keys.NewKey, now: datetime) -> ks.KeyCreated:
    event = key.event
    return ks.KeyCreated(
        id=key.key_id,
        label=event.label,
        scope=event.scope,
        prefix=event.prefix,
        status="active",
        created_at=now,
        expires_at=event.expires_at,
        key=key.secret,
    )


@post("/keys", status_code=202, summary="Issue an API key; the answer shows the key once", opt={"scope": "admin"})
async def create_key(
    tenant: NamedDependency[str], bus: NamedDependency[Bus], data: JSONBody[ks.KeyCreate]
) -> ks.KeyCreated:
    check_strings(data, "")
    now = datetime.now(UTC)
    if data.expires_at is not None and (data.expires_at.tzinfo is None or data.expires_at <= now):
        raise Unacceptable("invalid_expiry", "expires_at must be a future time with a time zone", field="expires_at")
    key = keys.new_key(data.label, data.scope, data.expires_at)
    e = key.event
    command = kc.IssueApiKey(
        key_id=key.key_id, key_hash=e.key_hash, prefix=e.prefix, label=e.label, scope=e.scope, expires_at=e.expires_at
    )
    await _send(bus, command, tenant, f"key-issue:{key.key_id}")
    return _created(key, now)


@get("/keys", summary="List the tenant's API keys, newest first (never their secrets)", opt={"scope": "admin"})
async def list_keys(
    tenant: NamedDependency[str],
    readmodels: NamedDependency[ReadModels],
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> ks.KeyPage:
    before = decode_cursor(cursor) if cursor else None
    rows = await key_reads.keys(readmodels.pool, tenant, limit + 1, before)
    now = datetime.now(UTC)
    return ks.KeyPage.of(rows, limit, lambda r: ks.key_view(r, now), lambda r: encode_cursor(str(r.key_id)))


@delete(
    "/keys/{key_id:str}",
    status_code=202,
    summary="Revoke an API key; every gateway refuses it within a second",
    opt={"scope": "admin"},
)
async def revoke_key(
    tenant: NamedDependency[str], fresh: NamedDependency[FreshReads], bus: NamedDependency[Bus], key_id: KeyId
) -> ks.ApiKey:
    row = await _key(fresh, tenant, key_id)
    now = datetime.now(UTC)
    await _send(bus, kc.RevokeApiKey(key_id=row.key_id), tenant, f"key-revoke:{row.key_id}:{now.isoformat()}")
    view = ks.key_view(row, now)
    view.status, view.revoked_at = "revoked", min(now, row.revoked_at or now)
    return view


@post(
    "/keys/{key_id:str}/rotate",
    status_code=202,
    summary="Issue a key like this one and revoke this one",
    opt={"scope": "admin"},
)
async def rotate_key(
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    key_id: KeyId,
    data: JSONBody[ks.KeyRotation | None] = None,
) -> ks.KeyRotated:
    row = await _key(fresh, tenant, key_id)
    now = datetime.now(UTC)
    if keys.key_status(row.expires_at, row.revoked_at, now) != "active":
        raise Unacceptable("key_not_active", "only an active key can be rotated")
    overlap_s = (data or ks.KeyRotation()).overlap_s
    key = keys.new_key(row.name, row.scope, row.expires_at)
    command = kc.RotateApiKey(
        key_id=row.key_id,
        new_key_id=key.key_id,
        key_hash=key.event.key_hash,
        prefix=key.event.prefix,
        overlap_s=overlap_s,
    )
    await _send(bus, command, tenant, f"key-rotate:{key.key_id}")
    created = _created(key, now)
    return ks.KeyRotated(
        **{f: getattr(created, f) for f in created.__struct_fields__},
        replaces=row.key_id,
        old_key_valid_until=now + timedelta(seconds=overlap_s),
    )
