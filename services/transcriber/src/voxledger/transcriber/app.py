"""Wiring: bootstrap, then consume: three durable pull subscribers sharing one process, and the dispatcher.

- recording commands (fast: decide and append),
- transcription work from the WORK queue (slow: `concurrency` at a time, each in a model child process,
  heartbeated), which the fair dispatcher (dispatch/; active in one transcriber at a time) fills, and
- diarization re-runs of completed jobs (in a thread, heartbeated).
Replicas share the durable consumers, so adding processes adds throughput.
"""

import asyncio
import os
from dataclasses import dataclass
from functools import partial

import msgspec
import structlog
from faststream.nats import NatsBroker, NatsMessage
from nats.js import JetStreamContext

from voxledger.contracts import streams, subjects
from voxledger.contracts.envelope import Message
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.broker import BROKER_PATIENCE_S, with_broker_retry
from voxledger.runtime.consumers import durable_pull
from voxledger.runtime.eventstore import EventStore
from voxledger.runtime.lifecycle import consume, nats_broker, start_service
from voxledger.runtime.messaging import Settlement, envelopes
from voxledger.runtime.provisioning import consumer_config
from voxledger.runtime.vault import Vault, open_vault
from voxledger.transcriber.adapters.model_process import ModelPool
from voxledger.transcriber.dispatch.dispatcher import Dispatcher
from voxledger.transcriber.domain import recording
from voxledger.transcriber.handlers import handle_recording_command, handle_work
from voxledger.transcriber.jobs.rediarize import Rediarizer
from voxledger.transcriber.jobs.runner import TranscriptionWorker
from voxledger.transcriber.settings import TranscriberSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Services:
    """What the process runs on, all on the broker's one NATS connection: the Recording aggregate, the vault,
    the model processes, the transcription worker, the diarization re-runs and the fair dispatcher."""

    broker: NatsBroker
    js: JetStreamContext
    repo: AggregateRepository[recording.Recording]
    vault: Vault
    pool: ModelPool
    worker: TranscriptionWorker
    rediarizer: Rediarizer
    dispatcher: Dispatcher


async def bootstrap(settings: TranscriberSettings) -> Services:
    broker = nats_broker(settings, "transcriber")
    nc = await broker.connect()
    js = nc.jetstream()
    await _apply_ack_wait(js, settings)
    vault = await open_vault(nc, settings)
    repo = AggregateRepository(EventStore(js, vault=vault), subjects.RECORDING, recording.DECIDER)
    # Start the model processes before taking jobs, so the first job does not pay for loading.
    pool = ModelPool(settings.concurrency, settings.model_start_timeout_s)
    await pool.start()
    worker = TranscriptionWorker(nc, repo, pool, settings)
    work = _work_consumer(settings)
    await nc.subscribe(
        f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{work.stream}.{work.durable}", cb=worker.on_max_deliveries
    )
    dispatcher = Dispatcher(broker, nc, settings, worker.worker_name)
    return Services(broker, js, repo, vault, pool, worker, Rediarizer(js, repo, settings), dispatcher)


def _work_consumer(settings: TranscriberSettings) -> streams.ConsumerSpec:
    return msgspec.structs.replace(streams.TRANSCRIPTION_WORK, max_deliver=settings.max_attempts + 1)


async def _apply_ack_wait(js: JetStreamContext, settings: TranscriberSettings) -> None:
    """This worker's AckWait on the shared consumers (provisioning created them with the default): the
    dispatcher's, whose deliveries are not bounded, and the workers', bounded by the attempts.
    Idempotent, so retried through a leader election rather than failing the start."""
    for spec in (streams.TRANSCRIPTION_JOBS, _work_consumer(settings)):
        config = consumer_config(spec, ack_wait_s=settings.ack_wait_s)
        await with_broker_retry(partial(js.add_consumer, spec.stream, config), "apply AckWait", BROKER_PATIENCE_S)


def subscribe(services: Services, ack_wait_s: float) -> None:
    """The durable pull subscribers, one message at a time each (a job's message is settled by the job).
    Commands and jobs carry sealed fields (a filename, a prompt): they are decoded through the vault."""
    sealed = envelopes(services.vault)

    @durable_pull(services.broker, streams.RECORDING_COMMANDS, decoder=sealed)
    async def on_recording_command(message: Message, msg: NatsMessage) -> None:
        await handle_recording_command(message, msg, services.repo, services.js, services.vault)

    @durable_pull(services.broker, streams.TRANSCRIPTION_WORK, ack_wait_s=ack_wait_s, decoder=sealed)
    async def on_transcription_work(message: Message, msg: NatsMessage) -> Settlement:
        return await handle_work(message, msg, services.worker)

    @durable_pull(services.broker, streams.DIARIZATION_RUNS, ack_wait_s=ack_wait_s)
    async def on_diarization_requested(message: Message, msg: NatsMessage) -> Settlement:
        return await services.rediarizer.handle(message, msg)


async def serve(settings: TranscriberSettings) -> None:
    services = await bootstrap(settings)
    subscribe(services, settings.ack_wait_s)
    stop_dispatching = asyncio.Event()
    dispatching = asyncio.create_task(services.dispatcher.serve(stop_dispatching))

    async def drain() -> None:
        stop_dispatching.set()  # a standby takes over what this one held (NAKed back)
        await dispatching
        await services.worker.drain(settings.shutdown_grace_s)

    log.info(
        "transcriber.ready",
        model=settings.model,
        worker=services.worker.worker_name,
        pid=os.getpid(),
        concurrency=services.pool.size,
    )
    await consume(services.broker, "transcriber", drain=drain, close=services.pool.close)


def main() -> None:
    settings = start_service("transcriber", TranscriberSettings)
    asyncio.run(serve(settings))
