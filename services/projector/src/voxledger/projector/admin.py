"""The projector's public admin API, for the `voxledger` CLI and operators: replay, digest, quarantine.

Each call connects to the servers it needs and closes them again.
"""

from voxledger.projector.adapters import quarantine, shadow
from voxledger.projector.adapters.postgres import PROJECTION, Layout
from voxledger.projector.adapters.quarantine import QuarantinedEvent, RetryReport
from voxledger.projector.adapters.schema import migrate
from voxledger.projector.replay import ReplayReport, replay
from voxledger.runtime import broker
from voxledger.runtime.db import create_pool
from voxledger.runtime.settings import CommonSettings, load_settings
from voxledger.runtime.vault import open_vault

__all__ = [
    "QuarantinedEvent",
    "ReplayReport",
    "RetryReport",
    "migrate",
    "projection_digest",
    "quarantined_events",
    "replay_projection",
    "retry_quarantined",
]


async def replay_projection(nats: broker.NatsAccess, database_url: str, projection: str = PROJECTION) -> ReplayReport:
    """Rebuilds the projection from sequence 1 into shadow tables and swaps them in; readers never wait."""
    nc = await broker.connect(nats, "replay")
    pool = await create_pool(database_url, max_size=2)
    try:
        vault = await open_vault(nc, load_settings(CommonSettings))  # the master key from this environment
        return await replay(nc.jetstream(), pool, vault, projection)
    finally:
        await pool.close()
        await nc.drain()


async def projection_digest(database_url: str) -> dict[str, tuple[int, str]]:
    """Per read model: its row count and a SHA-256 of its content, the same for a live and a replayed build."""
    pool = await create_pool(database_url, max_size=1)
    try:
        return await shadow.digest(pool)
    finally:
        await pool.close()


async def quarantined_events(database_url: str, projection: str | None = None) -> list[QuarantinedEvent]:
    pool = await create_pool(database_url, max_size=1)
    try:
        return await quarantine.quarantined(pool, projection)
    finally:
        await pool.close()


async def retry_quarantined(nats: broker.NatsAccess, database_url: str, projection: str = PROJECTION) -> RetryReport:
    """Applies the quarantined events again (after a fix); those that now apply leave the quarantine."""
    if projection != PROJECTION:
        raise ValueError(f"unknown projection {projection!r}; known: {PROJECTION}")
    nc = await broker.connect(nats, "quarantine-retry")
    pool = await create_pool(database_url, max_size=1)
    try:
        vault = await open_vault(nc, load_settings(CommonSettings))
        layout = Layout(checkpoint=projection, projection=projection)
        return await quarantine.retry(nc.jetstream(), pool, layout, vault)
    finally:
        await pool.close()
        await nc.drain()
