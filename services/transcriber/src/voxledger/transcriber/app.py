"""Wiring: a FastStream app with three durable pull subscribers sharing one process, and the dispatcher.

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
from faststream import AckPolicy, FastStream
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.aio.client import Client

from voxledger.contracts import streams, subjects
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.broker import BROKER_PATIENCE_S, connect, nats_access, with_broker_retry
from voxledger.runtime.eventstore import EventStore
from voxledger.runtime.lifecycle import faststream_logger, nats_broker, start_service
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
class _Started:
    """What start-up connects; the subscribers reach it once the app has started."""

    nc: Client
    repo: AggregateRepository[recording.Recording]
    worker: TranscriptionWorker
    vault: Vault
    rediarizer: Rediarizer
    dispatching: asyncio.Task[None]


def create_app(settings: TranscriberSettings) -> FastStream:
    broker = nats_broker(settings, "transcriber")
    pool = ModelPool(settings.concurrency, settings.model_start_timeout_s)
    started: list[_Started] = []
    stop_dispatching = asyncio.Event()

    _subscribe(broker, settings, started)
    app = FastStream(broker, logger=faststream_logger("transcriber"))

    @app.on_startup
    async def start() -> None:
        nc = await connect(nats_access(settings), "transcriber-events")
        js = nc.jetstream()
        # Apply this worker's AckWait to the shared consumers (provisioning created them with the default): the
        # dispatcher's, whose deliveries are not bounded, and the workers', bounded by the attempts.
        # Idempotent, so retried through a leader election rather than failing the start.
        jobs = streams.TRANSCRIPTION_JOBS
        work = msgspec.structs.replace(streams.TRANSCRIPTION_WORK, max_deliver=settings.max_attempts + 1)
        for spec in (jobs, work):
            config = consumer_config(spec, ack_wait_s=settings.ack_wait_s)
            await with_broker_retry(partial(js.add_consumer, spec.stream, config), "apply AckWait", BROKER_PATIENCE_S)
        vault = await open_vault(nc, settings)
        repo = AggregateRepository(EventStore(js, vault=vault), subjects.RECORDING, recording.DECIDER)
        # Start the model processes before taking jobs, so the first job does not pay for loading.
        await pool.start()
        worker = TranscriptionWorker(nc, repo, pool, settings, vault)
        dispatching = asyncio.create_task(Dispatcher(nc, settings, worker.worker_name).serve(stop_dispatching))
        started.append(_Started(nc, repo, worker, vault, Rediarizer(js, repo, settings), dispatching))
        await nc.subscribe(
            f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{work.stream}.{work.durable}", cb=worker.on_max_deliveries
        )
        log.info(
            "transcriber.ready", model=settings.model, worker=worker.worker_name, pid=os.getpid(), concurrency=pool.size
        )

    @app.on_shutdown
    async def drain() -> None:
        stop_dispatching.set()  # a standby takes over what this one held (NAKed back)
        for running in started:
            await running.dispatching
            await running.worker.drain(settings.shutdown_grace_s)

    @app.after_shutdown
    async def stop() -> None:
        await pool.close()
        for running in started:
            await running.nc.drain()

    return app


def _subscribe(broker: NatsBroker, settings: TranscriberSettings, started: list[_Started]) -> None:
    """The durable pull subscribers; what they need exists once the app has started."""

    @broker.subscriber(
        streams.RECORDING_COMMANDS.filter_subject,
        stream=JStream(streams.COMMANDS.name, declare=False),
        durable=streams.RECORDING_COMMANDS.durable,
        config=consumer_config(streams.RECORDING_COMMANDS),
        # batch_size 1: nats-py's fetch of a larger batch lingers until the batch fills or the
        # timeout passes, which would hold a lone command for up to `timeout` seconds.
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        ack_policy=AckPolicy.MANUAL,
    )
    async def on_recording_command(msg: NatsMessage) -> None:
        await handle_recording_command(msg, started[0].repo, started[0].nc.jetstream(), started[0].vault)

    @_one_at_a_time(broker, streams.TRANSCRIPTION_WORK, settings.ack_wait_s)
    async def on_transcription_work(msg: NatsMessage) -> None:
        await handle_work(msg, started[0].worker)

    @_one_at_a_time(broker, streams.DIARIZATION_RUNS, settings.ack_wait_s)
    async def on_diarization_requested(msg: NatsMessage) -> None:
        await started[0].rediarizer.handle(msg)


def main() -> None:
    settings = start_service("transcriber", TranscriberSettings)
    asyncio.run(create_app(settings).run())


def _one_at_a_time(broker: NatsBroker, spec: streams.ConsumerSpec, ack_wait_s: float):
    """A durable pull subscriber that takes one message at a time and acks it by hand (long work)."""
    return broker.subscriber(
        spec.filter_subject,
        stream=JStream(spec.stream, declare=False),
        durable=spec.durable,
        config=consumer_config(spec, ack_wait_s=ack_wait_s),
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        ack_policy=AckPolicy.MANUAL,
    )
