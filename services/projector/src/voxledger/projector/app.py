"""Wiring: connect, migrate the read-model schema, and project while holding the lease, until SIGTERM.

Instances beyond the first wait on standby and take over when the active one dies.
"""

import asyncio
import contextlib
import os
import signal
import socket

import asyncpg
import structlog
from nats.js import JetStreamContext
from prometheus_client import start_http_server

from voxledger.contracts import streams
from voxledger.projector.adapters.postgres import PROJECTION
from voxledger.projector.adapters.schema import migrate
from voxledger.projector.follow import run_projection
from voxledger.projector.settings import ProjectorSettings
from voxledger.runtime.broker import connect
from voxledger.runtime.db import create_pool
from voxledger.runtime.leases import Lease
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
        js = nc.jetstream()
        holder = f"{socket.gethostname()}-{os.getpid()}"
        key, ttl_s = f"projector.{PROJECTION}", streams.PROJECTION_LEASE_TTL_S
        while not stop.is_set():
            if lease := await Lease.acquire(js, key, holder, ttl_s):
                await _project_while_held(js, pool, settings, lease, stop)
            else:
                await _sleep_unless(stop, settings.standby_poll_s)
    finally:
        await nc.drain()
        await pool.close()


async def _project_while_held(
    js: JetStreamContext, pool: asyncpg.Pool, settings: ProjectorSettings, lease: Lease, stop: asyncio.Event
) -> None:
    log.info("projector.active", holder=lease.holder)
    halt = asyncio.Event()
    holding = asyncio.create_task(lease.keep(halt, every_s=lease.ttl_s / 5))
    relay = asyncio.create_task(_relay(stop, halt))
    try:
        await run_projection(js, pool, settings.batch_max, halt)
    finally:
        holding.cancel()
        relay.cancel()
        if stop.is_set():
            await lease.release()
    log.info("projector.standby" if not stop.is_set() else "projector.released", holder=lease.holder)


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def main() -> None:
    settings = load_or_exit(ProjectorSettings)
    configure_logging("projector", settings.log_format, settings.log_level)
    setup_tracing("projector")
    if settings.projector_metrics_port:
        start_http_server(settings.projector_metrics_port, addr=settings.projector_metrics_host)
    asyncio.run(serve(settings))
