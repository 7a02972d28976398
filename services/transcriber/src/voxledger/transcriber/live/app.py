"""Wiring for the live worker: NATS, the model, the Recording aggregate's live decider, and the claim loop."""

import asyncio
import os

import structlog

from voxledger.contracts import subjects
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.broker import connect, nats_access
from voxledger.runtime.eventstore import EventStore
from voxledger.runtime.lifecycle import start_service, stop_on_signals
from voxledger.runtime.vault import open_vault
from voxledger.transcriber.adapters.model import ModelCache
from voxledger.transcriber.live.domain import session as live_session
from voxledger.transcriber.live.settings import LiveSettings
from voxledger.transcriber.live.worker import LiveWorker

log = structlog.get_logger(__name__)


async def serve(settings: LiveSettings) -> None:
    stop = stop_on_signals()
    nc = await connect(nats_access(settings), "live")
    models = ModelCache(settings.device, settings.compute_type, settings.cpu_threads, settings.allow_model_download)
    vault = await open_vault(nc, settings)
    repo = AggregateRepository(EventStore(nc.jetstream(), vault=vault), subjects.RECORDING, live_session.DECIDER)
    worker = LiveWorker(nc, repo, models, settings, vault)
    try:
        await asyncio.to_thread(models.get, settings.model)  # loaded before the first session claims it
        log.info(
            "live.ready",
            worker=worker.name,
            pid=os.getpid(),
            model=settings.model,
            max_sessions=settings.live_max_sessions,
        )
        await worker.run(stop)
    finally:
        await nc.drain()


def main() -> None:
    settings = start_service("live", LiveSettings)
    asyncio.run(serve(settings))
