"""Ordered-consumer feeds: a subject of a stream read in order, from a point on, by an ephemeral consumer.

nats-py's ordered consumer resubscribes by itself after a gap or a lost heartbeat, from the last sequence it
delivered, so a feed never skips or repeats a message; the server drops an abandoned one on its own.
Three shapes: `follow` (a callback for every message, old ones first, until unsubscribed), `ordered` (the
subscription, to take messages at the reader's pace) and `stored` (what the stream holds now, then done).
"""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js import api as js_api

Subscription = JetStreamContext.PushSubscription
BACKLOG_BYTES = 512 * 1024 * 1024


def deliver_from(start_seq: int | None = None, *, last_per_subject: bool = False) -> js_api.ConsumerConfig:
    """Where a feed starts: the stream sequence `start_seq`, the newest message of each subject, or the first."""
    if last_per_subject:
        return js_api.ConsumerConfig(deliver_policy=js_api.DeliverPolicy.LAST_PER_SUBJECT)
    if start_seq is not None:
        return js_api.ConsumerConfig(deliver_policy=js_api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start_seq)
    return js_api.ConsumerConfig(deliver_policy=js_api.DeliverPolicy.ALL)


async def follow(
    js: JetStreamContext,
    subject: str,
    on_message: Callable[[Msg], Awaitable[None]],
    *,
    start_seq: int | None = None,
    backlog: int | None = None,
) -> Subscription:
    """Every message on `subject` (from `start_seq`, else the first), then each new one, to `on_message`, until
    the subscription is unsubscribed. `backlog`: how many may wait for a slow callback (over the limit the
    client drops them; an ordered reader sees the gap in the sequence numbers)."""
    if backlog is None:
        return await js.subscribe(subject, ordered_consumer=True, cb=on_message, config=deliver_from(start_seq))
    return await js.subscribe(
        subject,
        ordered_consumer=True,
        cb=on_message,
        pending_msgs_limit=backlog,
        pending_bytes_limit=BACKLOG_BYTES,
        config=deliver_from(start_seq),
    )


@contextlib.asynccontextmanager
async def ordered(
    js: JetStreamContext, subject: str, *, start_seq: int | None = None, last_per_subject: bool = False
) -> AsyncIterator[Subscription]:
    """The feed as a subscription to take messages from (`next_msg`); unsubscribed on leaving the block."""
    sub = await js.subscribe(
        subject, ordered_consumer=True, config=deliver_from(start_seq, last_per_subject=last_per_subject)
    )
    try:
        yield sub
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()  # the broker may be gone: the server drops the consumer by itself


@contextlib.asynccontextmanager
async def stored(
    js: JetStreamContext,
    subject: str,
    *,
    last_per_subject: bool = False,
    timeout_s: float = 10.0,
    quiet_ends: bool = False,
) -> AsyncIterator[AsyncIterator[Msg]]:
    """The messages on `subject` the stream holds now, in order, ending with the last of them. A message slower
    than `timeout_s` raises NatsTimeout, or ends the feed with `quiet_ends`."""
    async with ordered(js, subject, last_per_subject=last_per_subject) as sub:
        yield _until_caught_up(sub, timeout_s, quiet_ends)


async def _until_caught_up(sub: Subscription, timeout_s: float, quiet_ends: bool) -> AsyncIterator[Msg]:
    info = await sub.consumer_info()
    delivered = info.delivered.consumer_seq if info.delivered else 0
    if (info.num_pending or 0) + (delivered or 0) == 0:
        return  # nothing stored: no message will come to wait for
    while True:
        try:
            msg = await sub.next_msg(timeout=timeout_s)
        except NatsTimeout:
            if quiet_ends:
                return
            raise
        yield msg
        if msg.metadata.num_pending == 0:
            return
