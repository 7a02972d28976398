"""Tenants' retention settings, read from the log: the latest RetentionChanged of each tenant."""

import contextlib

from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import NotFoundError

from voxledger.contracts import envelope, streams, subjects
from voxledger.contracts.retention import RetentionChanged

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
    sub = await js.subscribe(
        CHANGES,
        ordered_consumer=True,
        config=js_api.ConsumerConfig(deliver_policy=js_api.DeliverPolicy.LAST_PER_SUBJECT),
    )
    try:
        info = await sub.consumer_info()
        delivered = info.delivered.consumer_seq if info.delivered else 0
        found: dict[str, int | None] = {}
        if (info.num_pending or 0) + (delivered or 0) == 0:
            return {}
        while True:
            msg = await sub.next_msg(timeout=10)
            found[envelope.decode_envelope(msg.data).tenant_id] = _days(msg.data)
            if msg.metadata.num_pending == 0:
                return {tenant: days for tenant, days in found.items() if days is not None}
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
