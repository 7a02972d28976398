"""Wiring: FastStream with durable consumers for completed transcriptions and requested re-runs."""

import asyncio
from dataclasses import dataclass

import structlog
from faststream.nats import NatsBroker, NatsMessage

from voxledger.contracts import streams, subjects
from voxledger.contracts.envelope import Message
from voxledger.postproc.adapters.llm import LlmEngine
from voxledger.postproc.domain import embedding, runs
from voxledger.postproc.domain.engines import BUILTIN_ENGINES
from voxledger.postproc.embeddings import PassageEmbedder
from voxledger.postproc.handlers import InsightRunner
from voxledger.postproc.settings import PostprocSettings
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.consumers import durable_pull
from voxledger.runtime.eventstore import EventStore
from voxledger.runtime.lifecycle import consume, nats_broker, start_service
from voxledger.runtime.messaging import Settlement
from voxledger.runtime.vault import open_vault

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Services:
    """What the process runs on: the broker (its one NATS connection), the LLM engine if any, the insight runner
    and the passage embedder."""

    broker: NatsBroker
    llm: LlmEngine | None
    runner: InsightRunner
    embedder: PassageEmbedder

    async def close(self) -> None:
        if self.llm is not None:
            await self.llm.close()


def llm_engine(settings: PostprocSettings) -> LlmEngine | None:
    if not settings.llm_url:
        return None
    return LlmEngine(
        settings.llm_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout_s, settings.llm_max_tokens
    )


async def bootstrap(settings: PostprocSettings) -> Services:
    broker = nats_broker(settings, "postproc")
    nc = await broker.connect()
    store = EventStore(nc.jetstream(), vault=await open_vault(nc, settings))
    repo = AggregateRepository(store, subjects.RECORDING, runs.DECIDER)
    llm = llm_engine(settings)
    passages = PassageEmbedder(AggregateRepository(store, subjects.RECORDING, embedding.DECIDER), settings)
    return Services(broker, llm, InsightRunner(repo, BUILTIN_ENGINES, llm, settings), passages)


def subscribe(services: Services, ack_wait_s: float) -> None:
    @durable_pull(services.broker, streams.INSIGHTS_ON_COMPLETION, ack_wait_s=ack_wait_s)
    async def on_transcription_completed(message: Message, msg: NatsMessage) -> Settlement:
        return await services.runner.on_transcription_completed(message, msg)

    @durable_pull(services.broker, streams.INSIGHTS_ON_REQUEST, ack_wait_s=ack_wait_s)
    async def on_insights_requested(message: Message, msg: NatsMessage) -> Settlement:
        return await services.runner.on_insights_requested(message, msg)

    @durable_pull(services.broker, streams.EMBEDDINGS_ON_COMPLETION, ack_wait_s=ack_wait_s)
    async def on_transcription_completed_embed(message: Message, msg: NatsMessage) -> Settlement:
        return await services.embedder.on_transcription_completed(message, msg)


async def serve(settings: PostprocSettings) -> None:
    services = await bootstrap(settings)
    subscribe(services, settings.ack_wait_s)
    log.info("postproc.ready", llm=services.llm.name if services.llm else None)
    await consume(services.broker, "postproc", close=services.close)


def main() -> None:
    settings = start_service("postproc", PostprocSettings)
    asyncio.run(serve(settings))
