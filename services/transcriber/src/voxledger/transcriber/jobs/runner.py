"""The job runner: holds transcription jobs under a lease, heartbeats them, runs their attempts in a free
model process (as many at once as the pool has), drains on SIGTERM, and settles each job's message as
the outcome policy (outcome.py) says (settle.py).
"""

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import msgspec
import structlog
from faststream.nats.message import NatsMessage
from nats.aio.client import Client
from nats.aio.msg import Msg
from opentelemetry import trace

from voxledger.contracts import subjects
from voxledger.contracts.decisions import Rejected
from voxledger.contracts.envelope import Envelope, Message, decode_envelope
from voxledger.contracts.events import TranscriptionChunkQueued, TranscriptionRequested, TranscriptionStarted
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.consumers import heartbeat
from voxledger.runtime.leases import Lease
from voxledger.runtime.lifecycle import worker_id
from voxledger.runtime.messaging import HELD, Nak, Settlement
from voxledger.transcriber.adapters.model_process import ModelPool
from voxledger.transcriber.domain.limits import SpeedEstimate
from voxledger.transcriber.domain.recording import Recording, StartAttempt, chunk_todo
from voxledger.transcriber.jobs import outcome
from voxledger.transcriber.jobs.attempt import Attempt
from voxledger.transcriber.jobs.chunk import ChunkRun
from voxledger.transcriber.jobs.settle import HeldJob, Settler, Work
from voxledger.transcriber.jobs.signals import Signals
from voxledger.transcriber.jobs.worker_lost import record_worker_lost
from voxledger.transcriber.settings import TranscriberSettings

log = structlog.get_logger(__name__)
tracer = trace.get_tracer("voxledger.transcriber")

RecordingRepository = AggregateRepository[Recording]


class TranscriptionWorker:
    """Runs transcription attempts, as many at once as the model pool has processes.

    Each job is held through a lease in KV and heartbeated; its writes are fenced
    by the attempt number, so a worker that was paused past its lease cannot write.
    """

    def __init__(self, nc: Client, repo: RecordingRepository, pool: ModelPool, settings: TranscriberSettings):
        self._nc = nc
        self._js = nc.jetstream()
        self._repo = repo
        self._pool = pool
        self._settings = settings
        self.worker_name = worker_id(settings.worker_name)
        self.speed = SpeedEstimate(settings.initial_realtime_factor)
        self.draining = asyncio.Event()  # set on SIGTERM: start nothing new, hand back the running jobs
        self.idle = asyncio.Event()
        self.idle.set()
        self._slots = asyncio.Semaphore(pool.size)
        self._running: set[asyncio.Task] = set()
        self._retry = outcome.RetryPolicy(max_attempts=settings.max_attempts, retry_base_s=settings.retry_base_s)
        self._settler = Settler(self._js, pool, self.speed, settings.max_attempts)

    async def drain(self, timeout_s: float) -> None:
        self.draining.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle.wait(), timeout_s)

    async def handle(self, message: Message, msg: NatsMessage) -> Settlement:
        """Starts the job in a free slot, then returns once a slot is free again; the job settles its message.

        So the subscriber fetches the next job only when it can start at once: a job
        never waits in this process unheartbeated while another worker is idle.
        """
        if self.draining.is_set():
            return Nak()  # shutting down: let a live worker take it
        await self._slots.acquire()
        self.idle.clear()
        task = asyncio.create_task(self._handle(message, msg))  # in this message's trace context
        self._running.add(task)
        task.add_done_callback(self._job_done)
        await self._slots.acquire()
        self._slots.release()
        return HELD

    def _job_done(self, task: asyncio.Task) -> None:
        self._running.discard(task)
        self._slots.release()
        if not self._running:
            self.idle.set()
        if not task.cancelled() and (err := task.exception()) is not None:
            log.error("job.handler_crashed", error=repr(err))

    async def _handle(self, message: Message, msg: NatsMessage) -> None:
        """A job runs its attempt, which plans its chunks if the recording is long; a chunk runs alone.
        Both are held under a lease of their own and heartbeated the same way."""
        cause = message.envelope
        if isinstance(message.body, TranscriptionChunkQueued):
            queued = message.body

            async def chunk(held: HeldJob, signals: Signals) -> None:
                await self._chunk(held, queued, cause, signals)

            await self._hold(msg, cause, queued.job_id, f"chunk.{queued.job_id}.{queued.index}", chunk)
            return
        request = message.body_as(TranscriptionRequested)

        async def attempt(held: HeldJob, signals: Signals) -> None:
            await self._attempt(held, request, cause, signals)

        await self._hold(msg, cause, request.job_id, f"job.{request.job_id}", attempt)

    async def _hold(
        self,
        msg: NatsMessage,
        cause: Envelope,
        job_id: str,
        key: str,
        work: Callable[[HeldJob, Signals], Awaitable[None]],
    ) -> None:
        """Runs `work` under the lease `key`, heartbeating the message, with the job's context in the logs."""
        context = {"recording_id": cause.aggregate_id, "job_id": job_id, "tenant": cause.tenant_id, "unit": key}
        with (
            structlog.contextvars.bound_contextvars(**context),
            tracer.start_as_current_span("transcribe"),
        ):
            lease = await self._wait_for_lease(msg, key)
            if lease is None:
                log.warning("job.lease_held_elsewhere")  # its holder is alive and renewing: not ours
                await msg.nack(delay=self._settings.ack_wait_s)
                return
            signals = Signals(self.draining)
            held = HeldJob(msg, lease)
            try:
                async with (
                    lease.held(self._settings.heartbeat_s, lost=signals.lease_lost),
                    heartbeat(msg, self._settings.heartbeat_s, signals.still_ours),
                ):
                    await work(held, signals)
            finally:
                if signals.lease_lost.is_set():
                    log.warning("job.lease_lost")  # another worker holds the job now: nothing more is ours
                else:
                    await held.release()  # the next holder need not wait for it to expire

    async def _wait_for_lease(self, msg: NatsMessage, key: str) -> Lease | None:
        """The job's lease. A redelivery can arrive a moment before a dead holder's lease expires:
        wait it out, heartbeating, rather than spend one of the job's bounded deliveries on a nack."""
        ttl_s = self._settings.ack_wait_s
        deadline = asyncio.get_running_loop().time() + 2 * ttl_s
        while (lease := await Lease.acquire(self._js, key, self.worker_name, ttl_s)) is None:
            if asyncio.get_running_loop().time() > deadline:
                return None
            await msg.in_progress()
            await asyncio.sleep(min(self._settings.heartbeat_s, 0.5))
        return lease

    async def on_max_deliveries(self, advisory: Msg) -> None:
        await record_worker_lost(self._js, self._repo, self._settings.max_attempts + 1, advisory)

    async def _attempt(self, held: HeldJob, request: TranscriptionRequested, cause: Envelope, signals: Signals) -> None:
        loaded = await self._repo.load(cause.aggregate_id)
        model_name = request.options.model or self._settings.model
        try:
            started = await self._repo.execute(
                loaded, StartAttempt(job_id=request.job_id, worker=self.worker_name, model=model_name), cause
            )
        except Rejected as err:
            refused = outcome.start_refused(err.code, self._retry)
            if refused.settle == "nak":
                log.warning("job.history_missing", reason=err.message)
            else:
                log.info("job.skipped", reason=err.message)  # finished, cancelled or deleted meanwhile
            await self._settler.settle(held, refused)
            return
        if not started:
            await held.ack()  # a redelivery of a job already split into chunks: its chunks carry on
            return
        if not isinstance(first := started[0].body, TranscriptionStarted):
            await held.ack()  # cancelled before it started
            return
        attempt = Attempt(self._repo, loaded, request, first.attempt, started[0].envelope, self._settings)
        await self._run_and_settle(held, attempt, loaded.aggregate_id, request.job_id, model_name, signals)

    async def _run_and_settle(
        self, held: HeldJob, work: Work, recording_id: str, job_id: str, model: str, signals: Signals
    ) -> None:
        async with self._cancel_watch(recording_id, job_id, signals.cancel):
            ending = await self._settler.run(held, work, model, signals)
            decided = outcome.decide(ending, held.delivery, self._retry, random.random(), datetime.now(UTC))
            if await self._settler.record(held, work, decided):
                await self._settler.settle(held, decided)

    async def _chunk(self, held: HeldJob, queued: TranscriptionChunkQueued, cause: Envelope, signals: Signals) -> None:
        loaded = await self._repo.load(cause.aggregate_id)
        job = loaded.state.jobs.get(queued.job_id)
        todo = chunk_todo(loaded.state, queued.job_id, queued.index)
        if todo != "run" or job is None:
            log.info("chunk.skipped", reason=todo)  # recorded already, or its job settled meanwhile
            decided = outcome.start_refused(todo, self._retry)
            if todo == "cancel_requested":
                await self._settler.cancel(ChunkRun(self._repo, loaded, queued, cause, self._settings))
                decided = outcome.Outcome(settle="ack")
            await self._settler.settle(held, decided)
            return
        run = ChunkRun(self._repo, loaded, queued, cause, self._settings)
        model_name = job.options.model or self._settings.model
        await self._run_and_settle(held, run, loaded.aggregate_id, queued.job_id, model_name, signals)

    @contextlib.asynccontextmanager
    async def _cancel_watch(self, recording_id: str, job_id: str, requested: asyncio.Event) -> AsyncIterator[None]:
        """Sets `requested` when the job's cancel is requested: seen at once, even between appends."""

        async def on_cancel_requested(raw: Msg) -> None:
            if msgspec.json.decode(decode_envelope(raw.data).data).get("job_id") == job_id:
                requested.set()

        subject = subjects.event_subject(subjects.RECORDING, recording_id, "TranscriptionCancelRequested")
        subscription = await self._nc.subscribe(subject, cb=on_cancel_requested)
        try:
            yield
        finally:
            await subscription.unsubscribe()
