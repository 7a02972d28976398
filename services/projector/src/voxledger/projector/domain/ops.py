"""Row operations: what projecting one event asks of the read models, applied later per batch."""

from datetime import datetime
from typing import Any

import msgspec

Row = dict[str, Any]


class Upsert(msgspec.Struct, frozen=True):
    table: str
    key: Row
    values: Row


class Update(msgspec.Struct, frozen=True):
    """UPDATE table SET values WHERE every key column matches (no row matched: no effect)."""

    table: str
    key: Row
    values: Row


class InsertMany(msgspec.Struct, frozen=True):
    """Insert rows, ignoring those whose primary key already exists."""

    table: str
    rows: list[Row]


class Add(msgspec.Struct, frozen=True):
    """Adds `values` to the numeric columns of the keyed row (a missing row starts at zero): a running total."""

    table: str
    key: Row
    values: dict[str, int]


class Purge(msgspec.Struct, frozen=True):
    """Drops every row of a recording, now and for any later event of it (a deleted recording stays deleted)."""

    recording_id: str
    tenant_id: str
    at: datetime


Op = Upsert | Update | InsertMany | Add | Purge
