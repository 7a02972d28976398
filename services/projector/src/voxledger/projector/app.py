"""Wiring: connect, migrate the read-model schema, run the projection until SIGTERM."""

import asyncio
import signal

import structlog

from voxledger.projector.adapters.schema import migrate
from voxledger.projector.handlers import run_projection
from voxledger.projector.settings import ProjectorSettings
from voxledger.runtime.db import create_pool
from voxledger.runtime.jetstream import connect
from voxledger.runtime.logging import configure_logging
from voxledger.runtime.settings import load_or_exit
from voxledger.runtime.telemetry import setup_tracing

log = structlog.get_logger(__name__)


async def serve(settings: ProjectorSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pool = await create_pool(settings.database_url, max_size=4)
    nc = await connect(settings.nats_url, "projector")
    try:
        version = await migrate(pool)
        log.info("projector.schema", version=version)
        await run_projection(nc.jetstream(), pool, settings.batch_max, stop)
    finally:
        await nc.drain()
        await pool.close()


def main() -> None:
    settings = load_or_exit(ProjectorSettings)
    configure_logging("projector", settings.log_format, settings.log_level)
    setup_tracing("projector")
    asyncio.run(serve(settings))
