"""Request and response bodies of /v1/settings: a tenant's settings."""

from typing import Annotated

import msgspec

MAX_RETENTION_DAYS = 100 * 365


class TenantSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # Recordings older than this many days are deleted (erased, as DELETE does); null keeps them until deleted.
    retention_days: Annotated[int, msgspec.Meta(ge=1, le=MAX_RETENTION_DAYS)] | None = None
