"""Request and response bodies of /v1/keys, and the view that fills them from rows."""

from datetime import datetime
from typing import Annotated

import msgspec

from voxledger.contracts.events import KeyScope
from voxledger.contracts.readmodels import ApiKeyRow
from voxledger.gateway.schemas import Page
from voxledger.runtime.keys import key_status

MAX_LABEL_CHARS = 200
MAX_OVERLAP_S = 7 * 24 * 3600

_LABEL = msgspec.Meta(max_length=MAX_LABEL_CHARS, examples=["ci pipeline"])


class KeyCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    label: Annotated[str, _LABEL] = ""
    scope: KeyScope = "member"
    expires_at: datetime | None = None  # with a time zone; a key past it is refused


class KeyRotation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    overlap_s: Annotated[int, msgspec.Meta(ge=0, le=MAX_OVERLAP_S)] = 0  # how long the old key still works


class ApiKey(msgspec.Struct, kw_only=True):
    id: str
    label: str
    scope: KeyScope
    prefix: str  # the key's first characters, to recognise it
    status: str  # active, expired, revoked (a rotated key is `active` until its overlap ends)
    created_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None  # to the minute, reported at most once a minute per gateway


class KeyCreated(ApiKey, kw_only=True):
    key: str  # the secret, shown here once, never again


class KeyRotated(KeyCreated, kw_only=True):
    replaces: str  # the old key's id
    old_key_valid_until: datetime


class KeyPage(Page[ApiKey]):
    items: list[ApiKey]


def key_view(row: ApiKeyRow, now: datetime) -> ApiKey:
    return ApiKey(
        id=row.key_id,
        label=row.name,
        scope=row.scope,
        prefix=row.prefix,
        status=key_status(row.expires_at, row.revoked_at, now),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )
