"""JetStream helpers: connect, provision streams, and the event store every writer uses.

Appends are deduplicated by `Nats-Msg-Id` (the event id) and guarded by
optimistic concurrency on the aggregate's subjects, so a retried or racing
writer can never duplicate or interleave events.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import APIError, BadRequestError, NotFoundError

from voxledger.contracts import envelope, streams, subjects
from voxledger.contracts.envelope import Message
from voxledger.runtime.logging import get_logger

log = get_logger(__name__)

WRONG_LAST_SEQUENCE = 10071
BROKER_PATIENCE_S = 60.0  # a worker rides out a broker restart instead of failing the attempt
T = TypeVar("T")

# The broker is restarting or unreachable: the request may not have landed, or its answer was lost.
BROKER_UNAVAILABLE_ERRORS = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
)


class ConcurrencyConflict(Exception):
    """Someone appended to the aggregate since it was loaded: reload, decide again."""


class BrokerUnavailable(Exception):
    """NATS did not answer within the caller's patience; nothing was acknowledged, so nothing is promised."""


async def with_broker_retry(operation: Callable[[], Awaitable[T]], what: str, patience_s: float) -> T:
    """Runs `operation` again while the broker is unavailable, for up to `patience_s`.

    Only for idempotent operations: a publish carries its Nats-Msg-Id, so a retry of one that
    did land (its ack was lost) is dropped by JetStream as a duplicate, or, for an append, found
    on top of the aggregate by the event store.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_s
    delay = 0.1
    while True:
        try:
            return await operation()
        except BROKER_UNAVAILABLE_ERRORS as err:
            if loop.time() + delay >= deadline:
                raise BrokerUnavailable(f"{what}: NATS did not answer within {patience_s:.0f} s") from err
            log.warning("nats.retrying", what=what, error=type(err).__name__, retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


async def connect(url: str, name: str) -> Client:
    async def on_error(err: Exception) -> None:
        log.warning("nats.error", error=str(err))

    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        error_cb=on_error,
    )


def _stream_config(spec: streams.StreamSpec, replicas: int) -> js_api.StreamConfig:
    return js_api.StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        retention=js_api.RetentionPolicy(spec.retention),
        storage=js_api.StorageType.FILE,
        max_age=spec.max_age_s,
        duplicate_window=spec.duplicate_window_s,
        num_replicas=replicas,
    )


def consumer_config(spec: streams.ConsumerSpec, ack_wait_s: float | None = None) -> js_api.ConsumerConfig:
    return js_api.ConsumerConfig(
        durable_name=spec.durable,
        filter_subject=spec.filter_subject,
        ack_policy=js_api.AckPolicy.EXPLICIT,
        deliver_policy=js_api.DeliverPolicy.ALL,
        ack_wait=ack_wait_s or spec.ack_wait_s,
        max_deliver=spec.max_deliver,
        max_ack_pending=spec.max_ack_pending,
    )


async def provision(js: JetStreamContext, replicas: int = 1) -> None:
    """Create or update the streams, durable consumers and the audio bucket. Idempotent."""
    for spec in streams.STREAMS:
        config = _stream_config(spec, replicas)
        try:
            await js.stream_info(spec.name)
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)
    for consumer in streams.CONSUMERS:
        await js.add_consumer(consumer.stream, consumer_config(consumer))
    await _ensure_key_value(js, streams.IDEMPOTENCY_BUCKET, streams.IDEMPOTENCY_TTL_S, replicas)
    # No bucket TTL: each lease key carries its own (nats-py turns per-key TTLs on for every bucket).
    await _ensure_key_value(js, streams.LEASES_BUCKET, None, replicas)
    await _ensure_key_value(js, streams.LIVE_SESSIONS_BUCKET, None, replicas)
    try:
        await js.object_store(streams.AUDIO_BUCKET)
    except (NotFoundError, nats.js.errors.BucketNotFoundError):
        await js.create_object_store(
            streams.AUDIO_BUCKET,
            config=js_api.ObjectStoreConfig(storage=js_api.StorageType.FILE, replicas=replicas),
        )


async def _ensure_key_value(js: JetStreamContext, bucket: str, ttl_s: float | None, replicas: int) -> None:
    try:
        await js.key_value(bucket)
    except (NotFoundError, nats.js.errors.BucketNotFoundError):
        await js.create_key_value(
            js_api.KeyValueConfig(bucket=bucket, ttl=ttl_s, storage=js_api.StorageType.FILE, replicas=replicas)
        )


def message_headers(message: Message) -> dict[str, str]:
    headers = {"Nats-Msg-Id": message.envelope.event_id}
    if message.envelope.traceparent:
        headers["traceparent"] = message.envelope.traceparent
    return headers


class EventStore:
    """Loads an aggregate's history and appends new events to it."""

    def __init__(self, js: JetStreamContext, patience_s: float = BROKER_PATIENCE_S):
        self._js = js
        self._patience_s = patience_s

    async def load(self, aggregate: str, aggregate_id: str) -> tuple[list[Message], int]:
        """Every event of the aggregate, decoded, and the stream sequence of the last one (0 if none)."""
        return await with_broker_retry(
            lambda: self._load(aggregate, aggregate_id), f"load {aggregate} {aggregate_id}", self._patience_s
        )

    async def _load(self, aggregate: str, aggregate_id: str) -> tuple[list[Message], int]:
        sub = await self._js.subscribe(
            subjects.aggregate_filter(aggregate, aggregate_id),
            ordered_consumer=True,
            config=js_api.ConsumerConfig(deliver_policy=js_api.DeliverPolicy.ALL),
        )
        try:
            info = await sub.consumer_info()
            history: list[Message] = []
            last_seq = 0
            delivered = info.delivered.consumer_seq if info.delivered else 0
            if (info.num_pending or 0) + (delivered or 0) == 0:
                return history, last_seq
            while True:
                raw = await sub.next_msg(timeout=10)
                last_seq = raw.metadata.sequence.stream
                try:
                    history.append(envelope.decode(raw.data))
                except envelope.UnknownMessage as err:
                    log.warning("event.skipped_unknown", subject=raw.subject, reason=str(err))
                if raw.metadata.num_pending == 0:
                    break
            return history, last_seq
        finally:
            with contextlib.suppress(*BROKER_UNAVAILABLE_ERRORS):
                await sub.unsubscribe()  # the server drops an abandoned ordered consumer by itself

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
                ack = await self._publish(subject, envelope.encode(message), headers)
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


async def publish_command(
    js: JetStreamContext, target: str, message: Message, dedup_key: str, patience_s: float = BROKER_PATIENCE_S
) -> int:
    """One durable publish. The dedup key (client Idempotency-Key or generated) makes retries harmless."""
    headers = message_headers(message)
    headers["Nats-Msg-Id"] = dedup_key
    subject = subjects.command_subject(target, message.envelope.type)
    payload = envelope.encode(message)
    ack = await with_broker_retry(lambda: js.publish(subject, payload, headers=headers), f"send {subject}", patience_s)
    return ack.seq
