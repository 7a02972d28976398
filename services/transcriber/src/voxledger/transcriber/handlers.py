"""Thin handlers: decode the message, load the aggregate, decide, append, ack.

Acks come last, once the effects are appended. Permanent failures append a
Failed event before the message is terminated; transient ones are NAKed with
backoff, within the consumer's bounded MaxDeliver.
"""

import asyncio
import contextlib
import os
import random
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import msgspec
import structlog
from faststream.nats.message import NatsMessage
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import ObjectNotFoundError
from opentelemetry import trace

from voxledger.contracts import streams, subjects
from voxledger.contracts.commands import DeleteRecording
from voxledger.contracts.envelope import Envelope, decode_envelope
from voxledger.contracts.envelope import decode as envelope_decode
from voxledger.contracts.events import TranscriptionRequested, TranscriptionStarted
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.consumers import decode_or_reject, heartbeat, retry_delay_s
from voxledger.runtime.leases import Lease, LeaseLost
from voxledger.runtime.telemetry import context_from_traceparent
from voxledger.transcriber.adapters.model_process import ModelPool
from voxledger.transcriber.attempt import Attempt, AttemptFailed, HandBack, Signals
from voxledger.transcriber.domain.errors import public_message
from voxledger.transcriber.domain.limits import SpeedEstimate
from voxledger.transcriber.domain.recording import Fail, Recording, Rejected, StartAttempt
from voxledger.transcriber.settings import TranscriberSettings

log = structlog.get_logger(__name__)
tracer = trace.get_tracer("voxledger.transcriber")


RecordingRepository = AggregateRepository[Recording]
# Refusals that mean the job needs nothing more from this attempt: it ended, or its recording is gone.
SETTLED_ELSEWHERE = frozenset({"job_finished", "recording_deleted"})


async def handle_recording_command(msg: NatsMessage, repo: RecordingRepository, js: JetStreamContext) -> None:
    if (message := await decode_or_reject(msg)) is None:
        return
    cmd = message.body
    context = {"recording_id": cmd.recording_id, "tenant": message.envelope.tenant_id}
    with (
        structlog.contextvars.bound_contextvars(**context),
        tracer.start_as_current_span(
            f"handle {message.envelope.type}", context=context_from_traceparent(message.envelope.traceparent)
        ),
    ):
        try:
            loaded = await repo.load(cmd.recording_id)
            appended = await repo.execute(loaded, cmd, message.envelope)
        except Rejected as err:
            log.warning("command.rejected", type=message.envelope.type, code=err.code, reason=err.message)
            await msg.reject()
            return
        except Exception:
            log.exception("command.failed_transiently")
            await msg.nack(delay=1.0)
            return
        log.info("command.handled", type=message.envelope.type, events=[m.envelope.type for m in appended])
        if isinstance(cmd, DeleteRecording) and not await _remove_audio(js, loaded.state.blob_key):
            await msg.nack(delay=1.0)  # redelivered: the decider adds nothing, the removal is tried again
            return
        await msg.ack()


async def _remove_audio(js: JetStreamContext, blob_key: str) -> bool:
    """After RecordingDeleted is appended, the audio goes too; already gone counts as removed."""
    try:
        store = await js.object_store(streams.AUDIO_BUCKET)
        await store.delete(blob_key)
    except ObjectNotFoundError:
        pass
    except Exception:
        log.exception("recording.audio_not_removed", blob_key=blob_key)
        return False
    log.info("recording.audio_removed", blob_key=blob_key)
    return True



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

    def __init__(self, nc: Client, repo: RecordingRepository, pool: ModelPool, settings: TranscriberSettings):
        self._nc = nc
        self._js = nc.jetstream()
        self._repo = repo
        self._pool = pool
        self._settings = settings
        self.worker_name = settings.worker_name or f"{socket.gethostname()}-{os.getpid()}"
        self.speed = SpeedEstimate(settings.initial_realtime_factor)
        self.draining = asyncio.Event()  # set on SIGTERM: start nothing new, hand back the running jobs
        self.idle = asyncio.Event()
        self.idle.set()
        self._slots = asyncio.Semaphore(pool.size)
        self._running: set[asyncio.Task] = set()

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
        if (message := await decode_or_reject(msg)) is None:
            return
        request: TranscriptionRequested = message.body  # type: ignore[assignment]
        cause = message.envelope
        context = {"recording_id": cause.aggregate_id, "job_id": request.job_id, "tenant": cause.tenant_id}
        with (
            structlog.contextvars.bound_contextvars(**context),
            tracer.start_as_current_span("transcribe", context=context_from_traceparent(cause.traceparent)),
        ):
            lease = await self._wait_for_lease(msg, f"job.{request.job_id}")
            if lease is None:
                log.warning("job.lease_held_elsewhere")  # its holder is alive and renewing: not ours
                await msg.nack(delay=self._settings.ack_wait_s)
                return
            signals = Signals(self.draining)
            held = HeldJob(msg, lease)
            try:
                async with heartbeat(msg, self._settings.heartbeat_s, self._renewal(lease, signals)):
                    await self._attempt(held, request, cause, signals)
            finally:
                if not signals.lease_lost.is_set():
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

    def _renewal(self, lease: Lease, signals: Signals):
        """Renews the job's lease before each heartbeat; says no once the lease is lost."""

        async def still_ours() -> bool:
            try:
                await lease.renew()
            except LeaseLost:
                log.warning("job.lease_lost")
                signals.lease_lost.set()
                return False
            except Exception as err:  # a broker hiccup: the next beat tries again
                log.warning("job.lease_not_renewed", error=str(err))
            return True

        return still_ours

    async def on_max_deliveries(self, advisory: Msg) -> None:
        """JetStream gave up redelivering a job (its last worker died): end it as failed instead of hanging."""
        seq = msgspec.json.decode(advisory.data)["stream_seq"]
        try:
            message = envelope_decode((await self._js.get_msg(streams.EVENTS.name, seq)).data)
            loaded = await self._repo.load(message.envelope.aggregate_id)
            failed = Fail(job_id=message.body.job_id, error_code="worker_lost", message=public_message("worker_lost"))
            await self._repo.execute(loaded, failed, message.envelope)
            log.warning(
                "job.failed_worker_lost",
                job_id=message.body.job_id,
                recording_id=loaded.aggregate_id,
                deliveries=self._settings.max_attempts + 1,
            )
        except Rejected:
            pass  # already settled, or another worker recorded it first
        except Exception:
            log.exception("job.max_deliveries_not_recorded", stream_seq=seq)

    async def _attempt(self, held: HeldJob, request: TranscriptionRequested, cause: Envelope, signals: Signals) -> None:
        loaded = await self._repo.load(cause.aggregate_id)
        model_name = request.options.model or self._settings.model
        try:
            started = await self._repo.execute(
                loaded, StartAttempt(job_id=request.job_id, worker=self.worker_name, model=model_name), cause
            )
        except Rejected as err:
            if err.code in ("recording_not_found", "job_not_found"):
                # The request event exists, so its history must too: treat as a transient read problem.
                log.warning("job.history_missing", reason=err.message)
                await held.give_back(self._settings.retry_base_s)
                return
            log.info("job.skipped", reason=err.message)  # finished, cancelled or deleted meanwhile
            await held.ack()
            return
        if not isinstance(first := started[0].body, TranscriptionStarted):
            await held.ack()  # cancelled before it started
            return
        attempt = Attempt(self._repo, loaded, request, first.attempt, started[0].envelope, self._settings)
        async with self._cancel_watch(loaded.aggregate_id, request.job_id, signals.cancel):
            await self._settle(held, attempt, model_name, signals)

    async def _settle(self, held: HeldJob, attempt: Attempt, model_name: str, signals: Signals) -> None:
        """Runs the attempt and turns its outcome into events and an ack, nack or term."""
        try:
            await attempt.run(self._js, self._pool, model_name, self.speed, signals)
        except LeaseLost as err:
            # Another worker owns the job now: touch neither the log nor the message.
            log.warning("job.superseded", reason=str(err))
        except HandBack:
            await attempt.hand_back()
            log.info("job.handed_back")  # its segments so far are in the log: the next worker resumes
            await held.give_back()
        except AttemptFailed as err:
            if err.permanent:
                log.warning("job.failed_permanently", code=err.code, reason=str(err))
                await attempt.fail(err.code)
                await held.reject()
            else:
                await self._fail_transiently(held, attempt, err.code, err)
        except Rejected as err:
            await self._stopped(held, attempt, err)
        except Exception as err:
            await self._fail_transiently(held, attempt, "internal_error", err)
        else:
            await held.ack()

    async def _stopped(self, held: HeldJob, attempt: Attempt, err: Rejected) -> None:
        """A write the aggregate refused mid-attempt: decide whether the job is settled or must retry."""
        if err.code == "attempt_superseded":
            log.warning("job.superseded", reason=err.message)  # the newer attempt owns job and message
            return
        if err.code == "cancel_requested":
            try:
                await attempt.cancel()
                log.info("job.cancelled")
            except Rejected as settled:
                log.info("job.cancel_already_settled", reason=settled.message)
        elif err.code in SETTLED_ELSEWHERE:
            log.info("job.stopped", reason=err.message)
        else:  # unexpected (a segment gap): never leave the job "running" with its message acked
            await self._fail_transiently(held, attempt, err.code, err)
            return
        await held.ack()

    async def _fail_transiently(self, held: HeldJob, attempt: Attempt, code: str, err: Exception) -> None:
        delivery = held.delivery
        final = delivery >= self._settings.max_attempts
        log.warning("job.attempt_failed", attempt=delivery, final=final, code=code, exc_info=err)
        delay = retry_delay_s(delivery, self._settings.retry_base_s, random.random())
        retry_at = None if final else (datetime.now(UTC) + timedelta(seconds=delay)).isoformat()
        try:
            await attempt.fail(code, retry_at)
        except Rejected as refused:
            log.warning("job.failure_refused", reason=refused.message)  # superseded or settled meanwhile
            return
        except Exception:
            log.exception("job.failure_not_recorded")  # the broker itself is unreachable: redelivery will retry
            await held.give_back(delay)
            return
        if final:
            await held.reject()
        else:
            await held.give_back(delay)

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
