"""The endpoint registry, kept current from the log: every endpoint event, followed from the start."""

import asyncio
import contextlib

import structlog
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from voxledger.contracts import envelope, streams, subjects
from voxledger.contracts.events import Event
from voxledger.runtime import feeds
from voxledger.webhooks.domain.registry import Registry

log = structlog.get_logger(__name__)
ENDPOINT_EVENTS = f"{subjects.EVENTS_PREFIX}.{subjects.WEBHOOK}.>"


class RegistryFollower:
    """Follows `vl.evt.wh.>` into a Registry; `current()` waits until it holds every endpoint event logged so far."""

    def __init__(self, js: JetStreamContext):
        self._js = js
        self.registry = Registry()
        self._advanced = asyncio.Condition()
        self._sub: Subscription | None = None

    async def start(self) -> None:
        self._sub = await feeds.follow(self._js, ENDPOINT_EVENTS, self._on_message)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _on_message(self, msg: Msg) -> None:
        try:
            message = envelope.decode(msg.data)
        except (envelope.UnknownMessage, ValueError) as err:
            log.warning("registry.event_skipped", subject=msg.subject, reason=str(err))
            message = None
        if message is not None and isinstance(message.body, Event):
            meta = message.envelope
            self.registry.apply(msg.metadata.sequence.stream, meta.aggregate_id, meta.tenant_id, message.body)
        else:
            self.registry.seen_seq = max(self.registry.seen_seq, msg.metadata.sequence.stream)
        async with self._advanced:
            self._advanced.notify_all()

    async def current(self, timeout_s: float = 30.0) -> Registry:
        """The registry once it has folded the newest endpoint event in the log (as of this call)."""
        try:
            last = (await self._js.get_last_msg(streams.EVENTS.name, ENDPOINT_EVENTS)).seq or 0
        except NotFoundError:
            last = 0
        async with self._advanced:
            await asyncio.wait_for(self._advanced.wait_for(lambda: self.registry.seen_seq >= last), timeout_s)
        return self.registry
