"""Provisioning: the streams, durable consumers and buckets every service expects. Idempotent."""

import nats
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import NotFoundError

from voxledger.contracts import streams
from voxledger.runtime.erasure import key_value_stream, stored
from voxledger.runtime.logging import get_logger

log = get_logger(__name__)


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
    await _ensure_data_keys(js, replicas)
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


async def _ensure_data_keys(js: JetStreamContext, replicas: int) -> None:
    """The data keys' bucket, allowing the message deletes that erase a destroyed key from the disk. A bucket
    made before (nats-py's, denying deletes for good) is copied into a new one: provisioning runs before the
    services start, so no key is read or created meanwhile."""
    # History 2: a re-wrap erases the revision it replaced (vault.rewrap_data_keys).
    config = key_value_stream(streams.DATA_KEYS_BUCKET, replicas, history=2)
    assert config.name is not None
    try:
        info = await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)
        return
    if not info.config.deny_delete:
        await js.update_stream(config)
        return
    kept = [m async for m in stored(js, config.name, f"$KV.{streams.DATA_KEYS_BUCKET}.>")]
    await js.delete_stream(config.name)  # its files are removed with it
    await js.add_stream(config)
    for message in kept:
        await js.publish(message.subject or "", message.data or b"", headers=message.headers)
    log.info("data_keys.bucket_recreated", keys=len(kept), reason="message deletes were denied")
