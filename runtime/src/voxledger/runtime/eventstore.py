"""The event store every writer uses: load an aggregate's history, append to it.

Appends are deduplicated by `Nats-Msg-Id` (the event id) and guarded by
optimistic concurrency on the aggregate's subjects, so a retried or racing
writer can never duplicate or interleave events.
"""

from collections.abc import Sequence

from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import APIError, BadRequestError, NotFoundError

from voxledger.contracts import envelope, streams, subjects
from voxledger.contracts.envelope import Message
from voxledger.runtime import feeds
from voxledger.runtime.broker import BROKER_PATIENCE_S, message_headers, with_broker_retry
from voxledger.runtime.codec import Codec, codec
from voxledger.runtime.logging import get_logger

log = get_logger(__name__)

WRONG_LAST_SEQUENCE = 10071


class ConcurrencyConflict(Exception):
    """Someone appended to the aggregate since it was loaded: reload, decide again."""


class EventStore:
    """Loads an aggregate's history and appends new events to it."""

    def __init__(self, js: JetStreamContext, patience_s: float = BROKER_PATIENCE_S, vault: Codec | None = None):
        """`vault` seals and opens recordings' content; without one (key events only) all is in clear."""
        self._js = js
        self._patience_s = patience_s
        self._codec = codec(vault)

    async def _decode(self, payload: bytes) -> Message:
        return await self._codec.decode(payload)

    async def _encode(self, message: Message) -> bytes:
        return await self._codec.encode(message)

    async def load(self, aggregate: str, aggregate_id: str) -> tuple[list[Message], int]:
        """Every event of the aggregate, decoded, and the stream sequence of the last one (0 if none)."""
        return await with_broker_retry(
            lambda: self._load(aggregate, aggregate_id), f"load {aggregate} {aggregate_id}", self._patience_s
        )

    async def _load(self, aggregate: str, aggregate_id: str) -> tuple[list[Message], int]:
        history: list[Message] = []
        last_seq = 0
        async with feeds.stored(self._js, subjects.aggregate_filter(aggregate, aggregate_id)) as events:
            async for raw in events:
                last_seq = raw.metadata.sequence.stream
                try:
                    history.append(await self._decode(raw.data))
                except envelope.UnknownMessage as err:
                    log.warning("event.skipped_unknown", subject=raw.subject, reason=str(err))
        return history, last_seq

    async def append(
        self, aggregate: str, aggregate_id: str, messages: Sequence[Message], expected_last_seq: int
    ) -> int:
        """Append in order; each publish expects the previous one's sequence. Returns the last sequence."""
        scope = subjects.aggregate_filter(aggregate, aggregate_id)
        seq = expected_last_seq
        for message in messages:
            headers = message_headers(message)
            headers["Nats-Expected-Last-Subject-Sequence"] = str(seq)
            headers["Nats-Expected-Last-Subject-Sequence-Subject"] = scope
            subject = subjects.event_subject(aggregate, aggregate_id, message.envelope.type)
            try:
                ack = await self._publish(subject, await self._encode(message), headers)
            except (APIError, BadRequestError) as err:
                if err.err_code == WRONG_LAST_SEQUENCE:
                    raise ConcurrencyConflict(f"{scope} moved past {seq}") from err
                raise
            seq = ack.seq
        return seq

    async def _publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> js_api.PubAck:
        async def attempt() -> js_api.PubAck:
            try:
                return await self._js.publish(subject, payload, headers=headers)
            except (APIError, BadRequestError) as err:
                # The sequence check runs before deduplication, so a retry whose first try landed (its
                # ack lost in a broker restart) finds its own event on top: that is success, not a conflict.
                if err.err_code == WRONG_LAST_SEQUENCE and (own := await self._own_last(subject, headers)):
                    return own
                raise

        return await with_broker_retry(attempt, f"append to {subject}", self._patience_s)

    async def _own_last(self, subject: str, headers: dict[str, str]) -> js_api.PubAck | None:
        try:
            last = await self._js.get_last_msg(streams.EVENTS.name, subject)
        except NotFoundError:
            return None
        if (last.headers or {}).get("Nats-Msg-Id") != headers["Nats-Msg-Id"]:
            return None
        log.info("event.append_already_landed", subject=subject, seq=last.seq)
        return js_api.PubAck(stream=streams.EVENTS.name, seq=last.seq or 0, duplicate=True)
