"""Wiring: connect, migrate the read-model schema, and project while holding the lease, until SIGTERM.

Instances beyond the first wait on standby and take over when the active one dies.
"""

import asyncio

import structlog
from prometheus_client import start_http_server

from voxledger.contracts import streams
from voxledger.projector.adapters.postgres import PROJECTION
from voxledger.projector.adapters.schema import migrate
from voxledger.projector.follow import run_projection
from voxledger.projector.settings import ProjectorSettings
from voxledger.runtime.broker import connect, nats_access
from voxledger.runtime.db import create_pool
from voxledger.runtime.leadership import Leadership, run_as_leader
from voxledger.runtime.lifecycle import start_service, stop_on_signals, worker_name
from voxledger.runtime.vault import open_vault

log = structlog.get_logger(__name__)


async def serve(settings: ProjectorSettings) -> None:
    stop = stop_on_signals()
    pool = await create_pool(settings.database_url, max_size=4)
    nc = await connect(nats_access(settings), "projector")
    try:
        version = await migrate(pool)
        log.info("projector.schema", version=version)
        js = nc.jetstream()
        vault = await open_vault(nc, settings)
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
        await nc.drain()
        await pool.close()


def main() -> None:
    settings = start_service("projector", ProjectorSettings)
    if settings.projector_metrics_port:
        start_http_server(settings.projector_metrics_port, addr=settings.projector_metrics_host)
    asyncio.run(serve(settings))
