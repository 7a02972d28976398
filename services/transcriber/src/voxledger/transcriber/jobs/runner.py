"""The job runner: holds transcription jobs under a lease, heartbeats them, runs their attempts in a free
model process (as many at once as the pool has), drains on SIGTERM, and settles each job's message as
the outcome policy (outcome.py) says.

Acks come last, once the effects are appended. Permanent failures append a Failed event before the
message is terminated; transient ones are NAKed with backoff, within the consumer's bounded MaxDeliver.
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

from voxledger.contracts import sealing, streams, subjects
from voxledger.contracts.decisions import Rejected
from voxledger.contracts.envelope import Envelope, decode_envelope
from voxledger.contracts.envelope import decode as envelope_decode
from voxledger.contracts.events import TranscriptionChunkQueued, TranscriptionRequested, TranscriptionStarted
from voxledger.contracts.failures import public_message
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.consumers import decode_or_reject, heartbeat
from voxledger.runtime.leases import Lease, LeaseLost
from voxledger.runtime.lifecycle import worker_id
from voxledger.runtime.telemetry import context_from_traceparent
from voxledger.runtime.vault import Vault
from voxledger.transcriber.adapters.model_process import ModelPool
from voxledger.transcriber.domain.limits import SpeedEstimate
from voxledger.transcriber.domain.recording import Fail, Recording, StartAttempt, chunk_todo
from voxledger.transcriber.jobs import outcome
from voxledger.transcriber.jobs.attempt import Attempt, AttemptFailed, HandBack, Signals
from voxledger.transcriber.jobs.chunk import ChunkRun
from voxledger.transcriber.settings import TranscriberSettings

log = structlog.get_logger(__name__)
tracer = trace.get_tracer("voxledger.transcriber")

RecordingRepository = AggregateRepository[Recording]
Work = Attempt | ChunkRun  # what the runner holds, runs and settles: a job's attempt, or one of its chunks


class HeldJob:
    """A delivered job and its lease. The lease is freed before the message goes back,
    so the worker that gets it next finds the lease free instead of waiting out its TTL."""

    def __init__(self, msg: NatsMessage, lease: Lease):
        self.msg = msg
        self.lease = lease
        self.delivery = msg.raw_message.metadata.num_delivered

    async def release(self) -> None:
        with contextlib.suppress(Exception):
            await self.lease.release()

    async def ack(self) -> None:
        await self.msg.ack()
        await self.release()

    async def reject(self) -> None:
        await self.msg.reject()
        await self.release()

    async def give_back(self, delay_s: float | None = None) -> None:
        await self.release()
        await self.msg.nack(delay=delay_s)


class TranscriptionWorker:
    """Runs transcription attempts, as many at once as the model pool has processes.

    Each job is held through a lease in KV and heartbeated; its writes are fenced
    by the attempt number, so a worker that was paused past its lease cannot write.
    """

    def __init__(
        self, nc: Client, repo: RecordingRepository, pool: ModelPool, settings: TranscriberSettings, vault: Vault
    ):
        self._nc = nc
        self._vault = vault  # a job's prompt and hotwords are sealed
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

    async def drain(self, timeout_s: float) -> None:
        self.draining.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle.wait(), timeout_s)

    async def handle(self, msg: NatsMessage) -> None:
        """Starts the job in a free slot, then returns once a slot is free again.

        So the subscriber fetches the next job only when it can start at once: a job
        never waits in this process unheartbeated while another worker is idle.
        """
        if self.draining.is_set():
            await msg.nack()  # shutting down: let a live worker take it
            return
        await self._slots.acquire()
        self.idle.clear()
        task = asyncio.create_task(self._handle(msg))
        self._running.add(task)
        task.add_done_callback(self._job_done)
        await self._slots.acquire()
        self._slots.release()

    def _job_done(self, task: asyncio.Task) -> None:
        self._running.discard(task)
        self._slots.release()
        if not self._running:
            self.idle.set()
        if not task.cancelled() and (err := task.exception()) is not None:
            log.error("job.handler_crashed", error=repr(err))

    async def _handle(self, msg: NatsMessage) -> None:
        """A job runs its attempt, which plans its chunks if the recording is long; a chunk runs alone.
        Both are held under a lease of their own and heartbeated the same way."""
        if (message := await decode_or_reject(msg, self._vault)) is None:
            return
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
            tracer.start_as_current_span("transcribe", context=context_from_traceparent(cause.traceparent)),
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
        """JetStream gave up redelivering a job (its last worker died): end it as failed instead of hanging."""
        seq = msgspec.json.decode(advisory.data)["stream_seq"]
        try:
            # only its ids count here: its sealed options (prompt, hotwords) are not opened
            spent = (await self._js.get_msg(streams.WORK.name, seq)).data or b""
            message = envelope_decode(spent, sealing.without_content)
            request = message.body
            if not isinstance(request, TranscriptionRequested | TranscriptionChunkQueued):
                raise TypeError(f"not a job or a chunk: {message.envelope.type}")
            loaded = await self._repo.load(message.envelope.aggregate_id)
            failed = Fail(job_id=request.job_id, error_code="worker_lost", message=public_message("worker_lost"))
            await self._repo.execute(loaded, failed, message.envelope)
            log.warning(
                "job.failed_worker_lost",
                job_id=request.job_id,
                recording_id=loaded.aggregate_id,
                deliveries=self._settings.max_attempts + 1,
            )
        except Rejected:
            pass  # already settled, or another worker recorded it first
        except Exception:
            log.exception("job.max_deliveries_not_recorded", stream_seq=seq)
            return
        # A work queue keeps what is never acked: remove the spent work once its end is recorded.
        with contextlib.suppress(Exception):
            await self._js.delete_msg(streams.WORK.name, seq)

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
            await self._settle_message(held, refused)
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
            ending = await self._run(held, work, model, signals)
            decided = outcome.decide(ending, held.delivery, self._retry, random.random(), datetime.now(UTC))
            if await self._record(held, work, decided):
                await self._settle_message(held, decided)

    async def _chunk(self, held: HeldJob, queued: TranscriptionChunkQueued, cause: Envelope, signals: Signals) -> None:
        loaded = await self._repo.load(cause.aggregate_id)
        job = loaded.state.jobs.get(queued.job_id)
        todo = chunk_todo(loaded.state, queued.job_id, queued.index)
        if todo != "run" or job is None:
            log.info("chunk.skipped", reason=todo)  # recorded already, or its job settled meanwhile
            decided = outcome.start_refused(todo, self._retry)
            if todo == "cancel_requested":
                await self._cancel(ChunkRun(self._repo, loaded, queued, cause, self._settings))
                decided = outcome.Outcome(settle="ack")
            await self._settle_message(held, decided)
            return
        run = ChunkRun(self._repo, loaded, queued, cause, self._settings)
        model_name = job.options.model or self._settings.model
        await self._run_and_settle(held, run, loaded.aggregate_id, queued.job_id, model_name, signals)

    async def _run(self, held: HeldJob, attempt: Work, model_name: str, signals: Signals) -> outcome.Ending:
        """Runs the attempt; how it ended, with what went wrong logged here (the tenant sees the code only)."""
        try:
            await attempt.run(self._js, self._pool, model_name, self.speed, signals)
        except LeaseLost as err:
            log.warning("job.superseded", reason=str(err))  # another worker owns the job: touch nothing
            return outcome.Superseded()
        except HandBack:
            return outcome.HandedBack()
        except AttemptFailed as err:
            if err.permanent:
                log.warning("job.failed_permanently", code=err.code, reason=str(err))
            else:
                self._log_transient(held, err.code, err)
            return outcome.Failed(code=err.code, permanent=err.permanent)
        except Rejected as err:
            if err.code == "attempt_superseded":
                log.warning("job.superseded", reason=err.message)  # the newer attempt owns job and message
            elif err.code in outcome.SETTLED_ELSEWHERE:
                log.info("job.stopped", reason=err.message)
            elif err.code != "cancel_requested":
                self._log_transient(held, err.code, err)
            return outcome.Refused(code=err.code)
        except Exception as err:
            self._log_transient(held, "internal_error", err)
            return outcome.Failed(code="internal_error", permanent=False)
        return outcome.Completed()

    def _log_transient(self, held: HeldJob, code: str, err: Exception) -> None:
        final = held.delivery >= self._settings.max_attempts
        log.warning("job.attempt_failed", attempt=held.delivery, final=final, code=code, exc_info=err)

    async def _record(self, held: HeldJob, attempt: Work, decided: outcome.Outcome) -> bool:
        """Appends what the outcome records; False if the message must now be left alone."""
        match decided.record:
            case "handed_back":
                await attempt.hand_back()
                log.info("job.handed_back")  # its segments so far are in the log: the next worker resumes
            case "cancelled":
                await self._cancel(attempt)
            case "failed" | "retry":
                return await self._record_failure(held, attempt, decided)
        return True

    async def _record_failure(self, held: HeldJob, attempt: Work, decided: outcome.Outcome) -> bool:
        retry_at = decided.retry_at.isoformat() if decided.retry_at else None
        try:
            await attempt.fail(decided.code or "internal_error", retry_at)
        except Rejected as refused:
            log.warning("job.failure_refused", reason=refused.message)  # superseded or settled meanwhile
            if refused.code in outcome.SETTLED_ELSEWHERE:
                await held.ack()  # deleted or finished: nothing is left for this message to do
            return False
        except Exception:
            log.exception("job.failure_not_recorded")  # the broker itself is unreachable: redelivery will retry
            await held.give_back(decided.delay_s)
            return False
        return True

    async def _cancel(self, attempt: Work) -> None:
        try:
            await attempt.cancel()
            log.info("job.cancelled")
        except Rejected as settled:
            log.info("job.cancel_already_settled", reason=settled.message)

    @staticmethod
    async def _settle_message(held: HeldJob, decided: outcome.Outcome) -> None:
        match decided.settle:
            case "ack":
                await held.ack()
            case "term":
                await held.reject()
            case "nak":
                await held.give_back(decided.delay_s)

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
