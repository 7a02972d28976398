"""Wiring: FastStream with durable consumers for completed transcriptions and requested re-runs."""

import asyncio
from dataclasses import dataclass

import structlog
from faststream import AckPolicy, FastStream
from faststream.nats import JStream, NatsMessage, PullSub
from nats.aio.client import Client

from voxledger.contracts import streams, subjects
from voxledger.postproc.adapters.llm import LlmEngine
from voxledger.postproc.domain import runs
from voxledger.postproc.domain.engines import BUILTIN_ENGINES
from voxledger.postproc.handlers import InsightRunner
from voxledger.postproc.settings import PostprocSettings
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.broker import connect, nats_access
from voxledger.runtime.eventstore import EventStore
from voxledger.runtime.lifecycle import faststream_logger, nats_broker, start_service
from voxledger.runtime.provisioning import consumer_config
from voxledger.runtime.vault import open_vault

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class _Started:
    """What start-up connects; the subscribers reach it once the app has started."""

    nc: Client
    llm: LlmEngine | None
    runner: InsightRunner


def create_app(settings: PostprocSettings) -> FastStream:
    broker = nats_broker(settings, "postproc")
    started: list[_Started] = []

    def subscriber(spec: streams.ConsumerSpec):
        return broker.subscriber(
            spec.filter_subject,
            stream=JStream(streams.EVENTS.name, declare=False),
            durable=spec.durable,
            config=consumer_config(spec, ack_wait_s=settings.ack_wait_s),
            pull_sub=PullSub(batch_size=1, timeout=5.0),
            ack_policy=AckPolicy.MANUAL,
        )

    @subscriber(streams.INSIGHTS_ON_COMPLETION)
    async def on_transcription_completed(msg: NatsMessage) -> None:
        await started[0].runner.on_transcription_completed(msg)

    @subscriber(streams.INSIGHTS_ON_REQUEST)
    async def on_insights_requested(msg: NatsMessage) -> None:
        await started[0].runner.on_insights_requested(msg)

    app = FastStream(broker, logger=faststream_logger("postproc"))

    @app.on_startup
    async def start() -> None:
        nc = await connect(nats_access(settings), "postproc-events")
        store = EventStore(nc.jetstream(), vault=await open_vault(nc, settings))
        repo = AggregateRepository(store, subjects.RECORDING, runs.DECIDER)
        llm = (
            LlmEngine(
                settings.llm_url,
                settings.llm_model,
                settings.llm_api_key,
                settings.llm_timeout_s,
                settings.llm_max_tokens,
            )
            if settings.llm_url
            else None
        )
        started.append(_Started(nc, llm, InsightRunner(repo, BUILTIN_ENGINES, llm, settings)))
        log.info("postproc.ready", llm=llm.name if llm else None)

    @app.after_shutdown
    async def stop() -> None:
        for running in started:
            if running.llm is not None:
                await running.llm.close()
            await running.nc.drain()

    return app


def main() -> None:
    settings = start_service("postproc", PostprocSettings)
    asyncio.run(create_app(settings).run())
