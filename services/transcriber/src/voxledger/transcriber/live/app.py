"""Wiring for the live worker: bootstrap (NATS, the model, the Recording aggregate's live decider), then the claim loop."""

import asyncio
import os
from dataclasses import dataclass

import structlog
from faststream.nats import NatsBroker

from voxledger.contracts import subjects
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.eventstore import EventStore
from voxledger.runtime.lifecycle import nats_broker, start_service, stop_on_signals
from voxledger.runtime.vault import open_vault
from voxledger.transcriber.adapters.model import ModelCache
from voxledger.transcriber.live.domain import session as live_session
from voxledger.transcriber.live.settings import LiveSettings
from voxledger.transcriber.live.worker import LiveWorker

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Services:
    """What the process runs on: its one NATS connection (a FastStream broker's, with no subscribers: sessions
    are claimed by the worker's own loop, see docs/layout.md), the models and the live worker."""

    broker: NatsBroker
    models: ModelCache
    worker: LiveWorker


async def bootstrap(settings: LiveSettings) -> Services:
    broker = nats_broker(settings, "live")
    nc = await broker.connect()
    models = ModelCache(settings.device, settings.compute_type, settings.cpu_threads, settings.allow_model_download)
    vault = await open_vault(nc, settings)
    repo = AggregateRepository(EventStore(nc.jetstream(), vault=vault), subjects.RECORDING, live_session.DECIDER)
    return Services(broker, models, LiveWorker(nc, repo, models, settings, vault))


async def serve(settings: LiveSettings) -> None:
    stop = stop_on_signals()
    services = await bootstrap(settings)
    try:
        await asyncio.to_thread(services.models.get, settings.model)  # loaded before the first session claims it
        log.info(
            "live.ready",
            worker=services.worker.name,
            pid=os.getpid(),
            model=settings.model,
            max_sessions=settings.live_max_sessions,
        )
        await services.worker.run(stop)
    finally:
        await services.broker.stop()  # drains the connection


def main() -> None:
    settings = start_service("live", LiveSettings)
    asyncio.run(serve(settings))
