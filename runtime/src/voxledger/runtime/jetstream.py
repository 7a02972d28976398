"""JetStream helpers: connect, provision streams, and the event store every writer uses.

Appends are deduplicated by `Nats-Msg-Id` (the event id) and guarded by
optimistic concurrency on the aggregate's subjects, so a retried or racing
writer can never duplicate or interleave events.
"""

from collections.abc import Sequence

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


class ConcurrencyConflict(Exception):
    """Someone appended to the aggregate since it was loaded: reload, decide again."""


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
    for spec in streams.CONSUMERS:
        await js.add_consumer(spec.stream, consumer_config(spec))
    await _ensure_key_value(js, streams.IDEMPOTENCY_BUCKET, streams.IDEMPOTENCY_TTL_S, replicas)
    await _ensure_key_value(js, streams.LIVE_SESSIONS_BUCKET, 0, replicas)
    await _ensure_key_value(js, streams.LIVE_LEASES_BUCKET, streams.LIVE_LEASE_TTL_S, replicas)
    try:
        await js.object_store(streams.AUDIO_BUCKET)
    except (NotFoundError, nats.js.errors.BucketNotFoundError):
        await js.create_object_store(
            streams.AUDIO_BUCKET,
            config=js_api.ObjectStoreConfig(storage=js_api.StorageType.FILE, replicas=replicas),
        )


async def _ensure_key_value(js: JetStreamContext, bucket: str, ttl_s: float, replicas: int) -> None:
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

    def __init__(self, js: JetStreamContext):
        self._js = js

    async def load(self, aggregate: str, aggregate_id: str) -> tuple[list[Message], int]:
        """Every event of the aggregate, decoded, and the stream sequence of the last one (0 if none)."""
        sub = await self._js.subscribe(
            subjects.aggregate_filter(aggregate, aggregate_id),
            ordered_consumer=True,
            config=js_api.ConsumerConfig(deliver_policy=js_api.DeliverPolicy.ALL),
        )
        try:
            info = await sub.consumer_info()
            history: list[Message] = []
            last_seq = 0
            if info.num_pending + info.delivered.consumer_seq == 0:
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
            await sub.unsubscribe()

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
                ack = await self._js.publish(subject, envelope.encode(message), headers=headers)
            except (APIError, BadRequestError) as err:
                if err.err_code == WRONG_LAST_SEQUENCE:
                    raise ConcurrencyConflict(f"{scope} moved past {seq}") from err
                raise
            seq = ack.seq
        return seq


async def publish_command(js: JetStreamContext, target: str, message: Message, dedup_key: str) -> int:
    """One durable publish. The dedup key (client Idempotency-Key or generated) makes retries harmless."""
    headers = message_headers(message)
    headers["Nats-Msg-Id"] = dedup_key
    ack = await js.publish(
        subjects.command_subject(target, message.envelope.type), envelope.encode(message), headers=headers
    )
    return ack.seq
