"""Raw messages from the log into projected items, with no IO: decode, upcast, project.

Whatever a message holds, this never raises: an unknown type or a newer version
becomes a skipped item, and anything that cannot be decoded, upcast or projected
becomes an item with an `error`, which the caller quarantines. A sealed event whose
data key is gone (its recording was deleted) projects to nothing: it is no poison.
"""

import msgspec

from voxledger.contracts import envelope, sealing, subjects
from voxledger.projector.domain.ops import Add, Op
from voxledger.projector.domain.projection import project

USAGE_TABLE = "tenant_usage"


class Item(msgspec.Struct):
    """One event of a batch, projected: its row operations and what identifies it."""

    seq: int
    ops: list[Op]
    event_type: str = ""
    aggregate: str = ""  # the subject's aggregate kind: rec, key, ...
    aggregate_id: str = ""
    tenant_id: str = ""
    skipped: str | None = None  # why it was skipped (an unknown type, a newer version): no rows, counted
    error: str | None = None  # why it could not be projected: the caller quarantines it


def subject_parts(subject: str) -> tuple[str, str, str]:
    """(aggregate, aggregate id, event type) of `vl.evt.<aggregate>.<id>.<type>`; blanks where absent."""
    prefix = subjects.EVENTS_PREFIX + "."
    tokens = subject.removeprefix(prefix).split(".") if subject.startswith(prefix) else []
    tokens += [""] * (3 - len(tokens))
    return tokens[0], tokens[1], ".".join(tokens[2:])


def describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def needs_key(subject: str) -> str | None:
    """The recording whose data key this event's subject says it may be sealed with."""
    aggregate, aggregate_id, event_type = subject_parts(subject)
    return aggregate_id if event_type in sealing.SEALED_FIELDS else None


def project_message(seq: int, subject: str, data: bytes, ciphers: sealing.CipherLookup | None = None) -> Item:
    """`ciphers` finds the data keys of sealed events (prefetched by the caller: this does no IO)."""
    aggregate, aggregate_id, event_type = subject_parts(subject)
    item = Item(seq, [], event_type=event_type, aggregate=aggregate, aggregate_id=aggregate_id)
    try:
        message = envelope.decode(data, ciphers)
    except envelope.UnknownMessage as err:
        item.skipped = str(err)
        return item
    except Exception as err:  # not an envelope, or a body that does not decode or upcast
        item.error = describe(err)
        return item
    meta = message.envelope
    item.event_type, item.aggregate_id, item.tenant_id = meta.type, meta.aggregate_id, meta.tenant_id
    if message.erased:
        return item
    try:
        item.ops = project(message, seq)
    except Exception as err:  # a projection bug this event triggers: it must not stop every other event
        item.error = describe(err)
    return item


def counted(item: Item, size: int) -> Item:
    """The item, also adding its event to its tenant's usage (events and bytes of the log): what the storage quota
    reads. Only the live projection and a replay count (a quarantined event's history re-applied does not again)."""
    if item.tenant_id and item.skipped is None:
        item.ops.append(Add(USAGE_TABLE, {"tenant_id": item.tenant_id}, {"events": 1, "event_bytes": size}))
    return item
