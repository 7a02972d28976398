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
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from voxledger.contracts.events import TranscriptionRequested
from voxledger.runtime.aggregates import AggregateRepository, Loaded
from voxledger.runtime.consumers import decode_or_reject, heartbeat, retry_delay_s
from voxledger.runtime.telemetry import context_from_traceparent
from voxledger.transcriber.adapters import audio
from voxledger.transcriber.adapters.model import ModelCache, ModelUnavailable, transcribe
from voxledger.transcriber.domain.progress import ProgressTracker, SegmentBatcher
from voxledger.transcriber.domain.recording import (
    Cancel,
    Complete,
    Fail,
    Recording,
    RecordSegments,
    Rejected,
    ReportProgress,
    StartAttempt,
)
from voxledger.transcriber.settings import TranscriberSettings

log = structlog.get_logger(__name__)
tracer = trace.get_tracer("voxledger.transcriber")


RecordingRepository = AggregateRepository[Recording]


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


class HandBack(Exception):
    """The worker is shutting down: return the job so another worker resumes it now, not after AckWait."""


class TranscriptionWorker:
    """Runs one transcription attempt per delivered TranscriptionRequested event."""

    def __init__(self, nc: Client, repo: RecordingRepository, models: ModelCache, settings: TranscriberSettings):
        self._nc = nc
        self._js = nc.jetstream()
        self._repo = repo
        self._models = models
        self._settings = settings
        self.worker_name = settings.worker_name or f"{socket.gethostname()}-{os.getpid()}"
        self.draining = asyncio.Event()  # set on SIGTERM: finish nothing new, hand back the current job
        self.idle = asyncio.Event()
        self.idle.set()

    async def drain(self, timeout_s: float) -> None:
        self.draining.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle.wait(), timeout_s)

    async def handle(self, msg: NatsMessage) -> None:
        if self.draining.is_set():
            await msg.nack()  # shutting down: let a live worker take it
            return
        self.idle.clear()
        try:
            await self._handle(msg)
        finally:
            self.idle.set()

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
            async with heartbeat(msg, self._settings.heartbeat_s):
                await self._attempt(msg, request, cause)

    async def on_max_deliveries(self, advisory: Msg) -> None:
        """JetStream gave up redelivering a job (its last worker died): end it as failed instead of hanging."""
        seq = msgspec.json.decode(advisory.data)["stream_seq"]
        try:
            message = envelope_decode((await self._js.get_msg(streams.EVENTS.name, seq)).data)
            loaded = await self._repo.load(message.envelope.aggregate_id)
            reason = f"no worker finished the job in {self._settings.max_attempts + 1} deliveries"
            await self._repo.execute(
                loaded, Fail(job_id=message.body.job_id, error_code="worker_lost", message=reason), message.envelope
            )
            log.warning("job.failed_worker_lost", job_id=message.body.job_id, recording_id=loaded.aggregate_id)
        except Rejected:
            pass  # already settled, or another worker recorded it first
        except Exception:
            log.exception("job.max_deliveries_not_recorded", stream_seq=seq)

    async def _attempt(self, msg: NatsMessage, request: TranscriptionRequested, cause: Envelope) -> None:
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
                await msg.nack(delay=self._settings.retry_base_s)
                return
            log.info("job.skipped", reason=err.message)  # finished, cancelled or deleted meanwhile
            await msg.ack()
            return
        if started[0].envelope.type != "TranscriptionStarted":
            await msg.ack()  # cancelled before it started
            return
        cause = started[0].envelope
        try:
            async with self._cancel_watch(loaded.aggregate_id, request.job_id) as cancel:
                await self._run(loaded, request, model_name, cause, cancel)
        except HandBack:
            log.info("job.handed_back")  # its segments so far are in the log: the next worker resumes
            await msg.nack()
        except (audio.AudioError, ModelUnavailable) as err:
            code = getattr(err, "code", "failed")
            log.warning("job.failed_permanently", code=code, reason=str(err))
            await self._repo.execute(loaded, Fail(job_id=request.job_id, error_code=code, message=str(err)), cause)
            await msg.reject()
        except Rejected as err:
            if err.code == "cancel_requested":
                # The request may have been seen on the subscription only: decide on the current log.
                current = await self._repo.load(loaded.aggregate_id)
                try:
                    await self._repo.execute(current, Cancel(job_id=request.job_id), cause)
                    log.info("job.cancelled")
                except Rejected as settled:
                    log.info("job.cancel_already_settled", reason=settled.message)
            else:
                log.info("job.stopped", reason=err.message)  # finished elsewhere while running
            await msg.ack()
        except Exception as err:
            await self._fail_transiently(msg, loaded, request.job_id, cause, err)
        else:
            await msg.ack()

    async def _fail_transiently(
        self, msg: NatsMessage, loaded: Loaded, job_id: str, cause: Envelope, err: Exception
    ) -> None:
        delivery = msg.raw_message.metadata.num_delivered
        final = delivery >= self._settings.max_attempts
        log.exception("job.attempt_failed", attempt=delivery, final=final)
        delay = retry_delay_s(delivery, self._settings.retry_base_s, random.random())
        retry_at = None if final else (datetime.now(UTC) + timedelta(seconds=delay)).isoformat()
        try:
            await self._repo.execute(
                loaded, Fail(job_id=job_id, error_code="internal_error", message=str(err), retry_at=retry_at), cause
            )
        except Exception:
            log.exception("job.failure_not_recorded")  # the broker itself is unreachable: redelivery will retry
            await msg.nack(delay=delay)
            return
        if final:
            await msg.reject()
        else:
            await msg.nack(delay=delay)

    @contextlib.asynccontextmanager
    async def _cancel_watch(self, recording_id: str, job_id: str) -> AsyncIterator[asyncio.Event]:
        """Set when the job's cancel is requested: seen within a poll interval, even between appends."""
        requested = asyncio.Event()

        async def on_cancel_requested(raw: Msg) -> None:
            if msgspec.json.decode(decode_envelope(raw.data).data).get("job_id") == job_id:
                requested.set()

        subject = subjects.event_subject(subjects.RECORDING, recording_id, "TranscriptionCancelRequested")
        subscription = await self._nc.subscribe(subject, cb=on_cancel_requested)
        try:
            yield requested
        finally:
            await subscription.unsubscribe()

    async def _run(
        self, loaded: Loaded, request: TranscriptionRequested, model_name: str, cause: Envelope, cancel: asyncio.Event
    ) -> None:
        job_id = request.job_id
        job = loaded.state.jobs[job_id]
        resume_s, first_index = job.transcribed_until_s, job.next_segment_index
        clock = time.monotonic
        t0 = clock()

        async def report(stage: str, progress: float, processed_s: float, eta_s: float | None = None) -> None:
            decision = ReportProgress(job_id=job_id, stage=stage, progress=progress, processed_s=processed_s, eta_s=eta_s)
            await self._repo.execute(loaded, decision, cause)

        await report("loading_audio", 0.0, resume_s)
        with tempfile.TemporaryDirectory(prefix="voxledger-job-") as workdir:
            path = await audio.fetch_blob(self._js, loaded.state.blob_key, Path(workdir))
            samples, duration_s = await asyncio.to_thread(
                audio.decode, path, resume_s, self._settings.max_audio_duration_s
            )
        if not self._models.is_loaded(model_name):
            await report("loading_model", round(resume_s / duration_s, 4), resume_s)
        model = await asyncio.to_thread(self._models.get, model_name)
        await report("transcribing", round(resume_s / duration_s, 4), resume_s)

        tracker = ProgressTracker(duration_s, started_at=clock(), resume_from_s=resume_s, interval_s=self._settings.progress_interval_s)
        tracker.due(resume_s, clock())  # the stage report above counts as the first progress
        batcher = SegmentBatcher(self._settings.segment_batch_max, self._settings.segment_batch_age_s)
        language = request.options.language or "en"

        async def flush(batch: list) -> None:
            if batch:
                await self._repo.execute(loaded, RecordSegments(job_id=job_id, segments=batch), cause)

        processed_s = resume_s
        async for segment, lang in self._segments(model, samples, request, resume_s, first_index):
            if cancel.is_set():
                raise Rejected("cancel_requested", "cancelled while transcribing")
            if self.draining.is_set():
                await flush(batcher.flush())
                raise HandBack()
            language = lang
            if segment is not None:
                processed_s = segment.end
                await flush(batcher.add(segment, clock()))
            else:
                await flush(batcher.due(clock()))
            snap = tracker.due(processed_s, clock())
            if snap is not None and snap.progress < 1.0:
                await report("transcribing", snap.progress, snap.processed_s, snap.eta_s)
        await flush(batcher.flush())
        await report("finalizing", 1.0, duration_s, 0.0)
        await self._repo.execute(
            loaded,
            Complete(job_id=job_id, language=language, duration_s=round(duration_s, 3), processing_s=round(clock() - t0, 3)),
            cause,
        )
        log.info("job.completed", duration_s=round(duration_s, 2), processing_s=round(clock() - t0, 2))

    async def _segments(self, model, samples, request: TranscriptionRequested, resume_s: float, first_index: int):
        """Runs the blocking model in a thread and yields (segment, language) as they come.

        Yields (None, language) every poll interval while the model is busy, so the
        caller can flush batches and report progress between segments.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        done = object()
        stop = threading.Event()  # set when the consumer stops early (cancel, failure): the thread quits

        def produce() -> None:
            try:
                language, segments = transcribe(model, samples, request.options, resume_s, first_index)
                loop.call_soon_threadsafe(queue.put_nowait, ("language", language))
                for segment in segments:
                    if stop.is_set():
                        return
                    loop.call_soon_threadsafe(queue.put_nowait, ("segment", segment))
                loop.call_soon_threadsafe(queue.put_nowait, (done, None))
            except BaseException as err:  # handed to the event loop, raised there
                loop.call_soon_threadsafe(queue.put_nowait, ("error", err))

        worker = loop.run_in_executor(None, produce)
        language = request.options.language or "en"
        try:
            while True:
                try:
                    kind, value = await asyncio.wait_for(queue.get(), timeout=self._settings.progress_interval_s)
                except TimeoutError:
                    yield None, language
                    continue
                if kind is done:
                    return
                if kind == "error":
                    raise value
                if kind == "language":
                    language = value
                else:
                    yield value, language
        finally:
            stop.set()
            await asyncio.shield(worker)
