"""Provisioning: the streams, durable consumers and buckets every service expects. Idempotent."""

import nats
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import NotFoundError

from voxledger.contracts import streams


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
        filter_subject=spec.filter_subject or None,
        filter_subjects=list(spec.filter_subjects) or None,
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
    await _ensure_key_value(js, streams.DATA_KEYS_BUCKET, None, replicas)
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
