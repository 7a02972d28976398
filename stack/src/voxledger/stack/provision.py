"""Provisioning: streams, consumers and buckets; the read-model schema; API keys."""

from datetime import datetime
from pathlib import Path

import msgspec

from voxledger.contracts import streams, subjects
from voxledger.contracts.events import KeyScope
from voxledger.projector.admin import migrate
from voxledger.runtime import broker, crypto, eventstore, keys, provisioning
from voxledger.runtime.db import create_pool
from voxledger.runtime.vault import rewrap_data_keys


async def provision(nats: broker.NatsAccess, database_url: str, replicas: int = 1) -> int:
    nc = await broker.connect(nats, "provision")
    try:
        await provisioning.provision(nc.jetstream(), replicas)
    finally:
        await nc.drain()
    pool = await create_pool(database_url, max_size=1)
    try:
        return await migrate(pool)
    finally:
        await pool.close()


async def issue_new_key(
    nats: broker.NatsAccess, tenant: str, label: str, scope: KeyScope = "member", expires_at: datetime | None = None
) -> keys.NewKey:
    """Appends ApiKeyIssued (with the key's hash only); the projector makes it usable."""
    keys.check_tenant(tenant)
    key = keys.new_key(label, scope, expires_at)
    nc = await broker.connect(nats, "keys")
    try:
        await keys.issue(eventstore.EventStore(nc.jetstream()), tenant, key.key_id, key.event)
    finally:
        await nc.drain()
    return key


async def issue_key(nats: broker.NatsAccess, tenant: str, name: str, scope: KeyScope = "member") -> str:
    """A new key's secret (see issue_new_key)."""
    return (await issue_new_key(nats, tenant, name, scope)).secret


async def revoke_key(nats: broker.NatsAccess, key_id: str) -> bool:
    """Revokes now; False if there is no such key."""
    nc = await broker.connect(nats, "keys")
    try:
        return await keys.revoke(eventstore.EventStore(nc.jetstream()), key_id)
    finally:
        await nc.drain()


async def rotate_key(nats: broker.NatsAccess, key_id: str, overlap_s: float = 0) -> keys.NewKey | None:
    """A new key like `key_id` (its label, scope and expiry are the event's; these are placeholders)."""
    nc = await broker.connect(nats, "keys")
    try:
        store = eventstore.EventStore(nc.jetstream())
        history, _ = await store.load(subjects.API_KEY, key_id)
        if not history:
            return None
        key = keys.new_key("", "member")
        tenant = history[0].envelope.tenant_id
        done = await keys.rotate(store, tenant, key_id, key.key_id, key.event.key_hash, key.event.prefix, overlap_s)
        return key if done else None
    finally:
        await nc.drain()


async def list_keys(database_url: str, tenant: str | None) -> list:
    """The read model's keys (all tenants' without one), newest first."""
    pool = await create_pool(database_url, max_size=1)
    try:
        return await pool.fetch(
            """SELECT key_id, tenant_id, name, scope, prefix, created_at, expires_at, revoked_at, last_used_at
               FROM api_keys WHERE $1::text IS NULL OR tenant_id = $1 ORDER BY key_id DESC""",
            tenant,
        )
    finally:
        await pool.close()


async def pulling(nats: broker.NatsAccess, spec: streams.ConsumerSpec) -> int:
    """How many pull requests wait on a durable consumer: each started worker keeps one open."""
    nc = await broker.connect(nats, "readiness")
    try:
        return (await nc.jetstream().consumer_info(spec.stream, spec.durable)).num_waiting
    finally:
        await nc.close()


class MasterRotation(msgspec.Struct):
    current: str  # the current master key's id
    rewrapped: int  # data keys re-wrapped by it now
    already_current: int
    retired: bool  # older master keys removed from the file


async def rotate_master_key(nats: broker.NatsAccess, path: Path, retire: bool) -> MasterRotation:
    """Without `retire`: a new current master key (the old ones kept), and every data key re-wrapped by it.
    With `retire`: re-wraps what is still on an old key, then removes the old keys from the file."""
    if not retire:
        crypto.rotate_master_file(path)
    master = crypto.MasterKeys(path)
    nc = await broker.connect(nats, "rotate-master")
    try:
        rewrapped, current = await rewrap_data_keys(nc.jetstream(), master)
    finally:
        await nc.drain()
    if retire:
        crypto.retire_old_master_keys(path)
    return MasterRotation(master.current, rewrapped, current, retire)
