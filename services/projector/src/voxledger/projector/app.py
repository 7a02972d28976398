"""Wiring: bootstrap (connect, migrate the read-model schema), then project while holding the lease, until SIGTERM.

Instances beyond the first wait on standby and take over when the active one dies.
"""

import asyncio
from dataclasses import dataclass

import asyncpg
import structlog
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from prometheus_client import start_http_server

from voxledger.contracts import streams
from voxledger.projector.adapters.postgres import PROJECTION
from voxledger.projector.adapters.schema import migrate
from voxledger.projector.follow import run_projection
from voxledger.projector.settings import ProjectorSettings
from voxledger.runtime.db import create_pool
from voxledger.runtime.leadership import Leadership, run_as_leader
from voxledger.runtime.lifecycle import nats_broker, start_service, stop_on_signals, worker_name
from voxledger.runtime.vault import Vault, open_vault

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Services:
    """What the process runs on: its one NATS connection (a FastStream broker's, with no subscribers: the
    projection is an ordered feed under a lease, see docs/layout.md), the vault, the read-model database."""

    broker: NatsBroker
    js: JetStreamContext
    vault: Vault
    pool: asyncpg.Pool

    async def close(self) -> None:
        await self.broker.stop()  # drains the connection
        await self.pool.close()


async def bootstrap(settings: ProjectorSettings) -> Services:
    """Connects, and migrates the read-model schema."""
    pool = await create_pool(settings.database_url, max_size=4)
    broker = nats_broker(settings, "projector")
    nc = await broker.connect()
    version = await migrate(pool)
    log.info("projector.schema", version=version)
    return Services(broker, nc.jetstream(), await open_vault(nc, settings), pool)


async def serve(settings: ProjectorSettings) -> None:
    stop = stop_on_signals()
    services = await bootstrap(settings)
    try:
        js, vault, pool = services.js, services.vault, services.pool
        leadership = Leadership(
            "projector",
            f"projector.{PROJECTION}",
            worker_name(),
            streams.PROJECTION_LEASE_TTL_S,
            settings.standby_poll_s,
        )
        await run_as_leader(
            js, leadership, lambda halt: run_projection(js, pool, settings.batch_max, halt, vault), stop
        )
    finally:
        await services.close()


def main() -> None:
    settings = start_service("projector", ProjectorSettings)
    if settings.projector_metrics_port:
        start_http_server(settings.projector_metrics_port, addr=settings.projector_metrics_host)
    asyncio.run(serve(settings))
