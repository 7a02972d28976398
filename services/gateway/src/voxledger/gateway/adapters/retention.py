"""Tenants' retention settings, read from the log: the latest RetentionChanged of each tenant."""

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from voxledger.contracts import envelope, streams, subjects
from voxledger.contracts.retention import RetentionChanged
from voxledger.runtime import feeds

CHANGES = subjects.event_type_filter(subjects.TENANT, RetentionChanged.__name__)


def _days(payload: bytes) -> int | None:
    return envelope.decode(payload).body_as(RetentionChanged).retention_days


async def retention_of(js: JetStreamContext, tenant: str) -> int | None:
    try:
        last = await js.get_last_msg(
            streams.EVENTS.name, subjects.event_subject(subjects.TENANT, tenant, "RetentionChanged")
        )
    except NotFoundError:
        return None
    return _days(last.data or b"")


async def retention_settings(js: JetStreamContext) -> dict[str, int]:
    """Every tenant with a retention set: tenant -> days."""
    found: dict[str, int | None] = {}
    async with feeds.stored(js, CHANGES, last_per_subject=True) as changes:
        async for msg in changes:
            found[envelope.decode_envelope(msg.data).tenant_id] = _days(msg.data)
    return {tenant: days for tenant, days in found.items() if days is not None}
