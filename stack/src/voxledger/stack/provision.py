"""Provisioning: streams, consumers and buckets; the read-model schema; API keys."""

import hashlib
import secrets

import msgspec

from voxledger.contracts import streams, subjects
from voxledger.contracts.envelope import seal
from voxledger.contracts.events import ApiKeyIssued
from voxledger.contracts.ids import new_id
from voxledger.projector.adapters.schema import migrate
from voxledger.runtime import broker, eventstore, provisioning
from voxledger.runtime.db import create_pool

KEY_PREFIX = "vl_"


def hash_key(api_key: str) -> str:
    # Keys are 256-bit random, so a fast hash is enough; the hash alone is stored.
    return hashlib.sha256(api_key.encode()).hexdigest()


async def provision(nats_url: str, database_url: str, replicas: int = 1) -> int:
    nc = await broker.connect(nats_url, "provision")
    try:
        await provisioning.provision(nc.jetstream(), replicas)
    finally:
        await nc.drain()
    pool = await create_pool(database_url, max_size=1)
    try:
        return await migrate(pool)
    finally:
        await pool.close()


async def issue_key(nats_url: str, tenant: str, name: str) -> str:
    """Appends ApiKeyIssued (with the key's hash only) and returns the key; the projector makes it usable."""
    if not tenant or not all(c.isalnum() or c in "-_" for c in tenant):
        raise ValueError("tenant must be letters, digits, '-' or '_'")
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = new_id()
    event = ApiKeyIssued(key_hash=hash_key(api_key), prefix=api_key[:10], label=name)
    nc = await broker.connect(nats_url, "keys")
    try:
        store = eventstore.EventStore(nc.jetstream())
        await store.append(subjects.API_KEY, key_id, [seal(event, aggregate_id=key_id, tenant_id=tenant)], 0)
    finally:
        await nc.drain()
    return api_key


async def pulling(nats_url: str, spec: streams.ConsumerSpec) -> int:
    """How many pull requests wait on a durable consumer: each started worker keeps one open."""
    nc = await broker.connect(nats_url, "readiness")
    try:
        return (await nc.jetstream().consumer_info(spec.stream, spec.durable)).num_waiting
    finally:
        await nc.close()


class StackInfo(msgspec.Struct, kw_only=True):
    """What a running `voxledger up` writes to <data dir>/run/stack.json for other commands to find it."""

    nats_url: str
    database_url: str
    http_url: str
    supervisor_pid: int
