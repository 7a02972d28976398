"""Helpers for JetStream consumers doing long work."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import structlog
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.subscriber.usecases import LogicSubscriber

from voxledger.contracts import streams
from voxledger.runtime.messaging import Decoder, envelopes
from voxledger.runtime.provisioning import consumer_config

log = structlog.get_logger(__name__)


def durable_pull(
    broker: NatsBroker,
    spec: streams.ConsumerSpec,
    *,
    ack_wait_s: float | None = None,
    workers: int | None = None,
    decoder: Decoder | None = None,
    persistent: bool = True,
) -> "LogicSubscriber[Any]":
    """The one durable pull subscriber: `spec`'s shared consumer (replicas share it), one message per fetch; with
    `workers`, that many handled at once. Without `ack_wait_s` the consumer keeps its provisioned AckWait.
    Its handler receives the message as `decoder` reads it (envelopes with content blind by default), and the
    broker's middleware (runtime/messaging.py) settles it: FastStream itself acks nothing. One that is not
    `persistent` is started and stopped by its owner (`start()`, `stop()`), not with the broker."""
    return broker.subscriber(
        spec.filter_subject,
        stream=JStream(spec.stream, declare=False),
        durable=spec.durable,
        config=consumer_config(spec, ack_wait_s=ack_wait_s),
        # batch_size 1: nats-py's fetch of a larger batch lingers until the batch fills or the
        # timeout passes, which would hold a lone message for up to `timeout` seconds.
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        ack_policy=AckPolicy.MANUAL,
        max_workers=workers,
        decoder=decoder or envelopes(),
        persistent=persistent,
    )


class Acknowledgeable(Protocol):
    async def in_progress(self) -> None: ...


@contextlib.asynccontextmanager
async def heartbeat(
    msg: Acknowledgeable, every_s: float, still_ours: Callable[[], Awaitable[bool]] | None = None
) -> AsyncIterator[None]:
    """Tells JetStream the work is alive, well inside AckWait, so a live worker's message is not redelivered.

    `still_ours` runs before each beat (a lease renewal): once it says no, the beats stop, so a
    worker that lost the work never extends the delivery that now belongs to another.
    """

    async def beat() -> None:
        while True:
            await asyncio.sleep(every_s)
            if still_ours is not None and not await still_ours():
                return
            with contextlib.suppress(Exception):
                await msg.in_progress()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def retry_delay_s(attempt: int, base_s: float, jitter: float) -> float:
    """Exponential backoff; `jitter` in [0, 1) is the caller's random draw, so the function stays pure."""
    return float(base_s * 2.0 ** (attempt - 1) * (0.5 + jitter / 2))
