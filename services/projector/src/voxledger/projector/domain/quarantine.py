"""Poison events, with no IO: what a quarantined event becomes, and how a failing batch is split.

A projection must never stop for one event. An event that cannot be decoded, or
whose rows the database refuses, is set aside: a quarantine row takes its place
(in the same transaction that advances the checkpoint), and its recording is
marked degraded, so the API says so instead of silently missing data.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

import msgspec

from voxledger.contracts import subjects
from voxledger.contracts.readmodels import QUARANTINE_TABLE
from voxledger.projector.domain.intake import Item
from voxledger.projector.domain.ops import Add, Op, Update, Upsert

ERROR_CODE = "event_quarantined"
MAX_TEXT = 2000  # a quarantine row stays small whatever the event held


def clean(text: str, limit: int = MAX_TEXT) -> str:
    """Text Postgres always stores: NUL escaped, lone surrogates escaped, bounded."""
    safe = text.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def quarantined(item: Item, projection: str, error: str, at: datetime, *, mark: bool = True) -> Item:
    """The item that replaces a poison event: its quarantine row, the degraded mark on its recording, and
    its command's effect. Without `mark`, the quarantine row alone (for when even those fail)."""
    row = {
        "event_type": clean(item.event_type, 200),
        "aggregate_id": clean(item.aggregate_id, 200),
        "tenant_id": clean(item.tenant_id, 200),
        "error": clean(error),
        "quarantined_at": at,
    }
    ops: list[Op] = [Upsert(QUARANTINE_TABLE, {"projection": projection, "seq": item.seq}, row)]
    if mark and item.aggregate == subjects.RECORDING and _is_uuid(item.aggregate_id):
        degraded = {"code": ERROR_CODE, "seq": item.seq}
        ops.append(Update("recordings", {"recording_id": item.aggregate_id}, {"read_model_error": degraded}))
    if mark:
        # A read waiting on the command's token is answered (showing the degraded recording), not left stale:
        # the read models now hold all they ever will of that command.
        ops += [op for op in item.ops if isinstance(op, Upsert) and op.table == "command_effects"]
        ops += [op for op in item.ops if isinstance(op, Add)]  # it is in the log all the same: its tenant's usage
    return msgspec.structs.replace(item, ops=ops, skipped=None, error=clean(error))


def _is_uuid(value: str) -> bool:
    """Strictly the canonical form: Postgres reads a few others, but not all that Python's UUID does."""
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


T = TypeVar("T")
R = TypeVar("R")


async def isolate(
    items: Sequence[T],
    attempt: Callable[[Sequence[T]], Awaitable[R]],
    set_aside: Callable[[T, Exception], Awaitable[R]],
    is_poison: Callable[[Exception], bool],
) -> R:
    """Commits `items` in order through `attempt`; on a poison failure, splits until the failing item is alone
    and hands it to `set_aside` instead. Every other item is committed, in order. Returns the last result.

    The happy path is one attempt; splitting only happens after a failure. Each half is committed before the
    next is tried, so an item is always tried on top of everything before it, as in one batch.
    """
    try:
        return await attempt(items)
    except Exception as err:
        if not is_poison(err):
            raise
        if len(items) == 1:
            return await set_aside(items[0], err)
        if not items:
            raise
    middle = len(items) // 2
    await isolate(items[:middle], attempt, set_aside, is_poison)
    return await isolate(items[middle:], attempt, set_aside, is_poison)
