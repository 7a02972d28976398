"""One attempt at a job: feed the model process, append what it reports (journal.py), within a time limit.

The attempt writes only in its own name (its attempt number), so once another
worker has taken the job over, whatever this one still tries to append is refused.
"""

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import structlog
from nats.js import JetStreamContext

from voxledger.contracts.envelope import Envelope
from voxledger.contracts.events import Segment, Stage, TranscriptionRequested
from voxledger.runtime.aggregates import AggregateRepository, Loaded
from voxledger.transcriber.adapters import audio
from voxledger.transcriber.adapters.model_process import (
    Decoded,
    Failed,
    Finished,
    FromChild,
    Language,
    LoadingModel,
    ModelPool,
    ModelProcess,
    SegmentReady,
    Stopped,
    TranscribeJob,
)
from voxledger.transcriber.domain.limits import SpeedEstimate, attempt_limit_s
from voxledger.transcriber.domain.progress import ProgressTracker, SegmentBatcher
from voxledger.transcriber.domain.recording import (
    Complete,
    PlanChunks,
    Recording,
)
from voxledger.transcriber.domain.speakers import speaker_count
from voxledger.transcriber.jobs import planning
from voxledger.transcriber.jobs.diarizing import DiarizationRun, record_turns, start_diarization
from voxledger.transcriber.jobs.journal import AttemptJournal
from voxledger.transcriber.jobs.signals import SIGNAL_CHECK_S, AttemptFailed, Signals
from voxledger.transcriber.settings import TranscriberSettings

log = structlog.get_logger(__name__)


class Attempt:
    def __init__(
        self,
        repo: AggregateRepository[Recording],
        loaded: Loaded[Recording],
        request: TranscriptionRequested,
        number: int,
        cause: Envelope,
        settings: TranscriberSettings,
    ):
        self._loaded = loaded
        self._job_id = request.job_id
        self._request = request
        self._number = number
        self._settings = settings
        self._journal = AttemptJournal(repo, loaded, cause, request.job_id, number)
        job = loaded.state.jobs[request.job_id]
        self._resume_s, self._first_index = job.transcribed_until_s, job.next_segment_index
        self._batcher = SegmentBatcher(settings.segment_batch_max, settings.segment_batch_age_s)
        self._tracker: ProgressTracker | None = None
        self._language = request.options.language or "en"
        self._language_probability: float | None = None
        self._processed_s = self._resume_s
        self._diarization: DiarizationRun | None = None

    async def run(
        self, js: JetStreamContext, pool: ModelPool, model: str, speed: SpeedEstimate, signals: Signals
    ) -> None:
        t0 = time.monotonic()
        await self._report("loading_audio", 0.0, self._resume_s)
        with tempfile.TemporaryDirectory(prefix="voxledger-job-") as workdir:
            path = await audio.fetch_blob(js, self._loaded.state.blob_key, Path(workdir))
            if await self._planned_chunks(path):
                return  # the chunks are the work now: any worker takes them
            diarized = self._loaded.state.jobs[self._job_id].diarized
            self._diarization = start_diarization(
                self._request.options, diarized, path, self._settings.max_audio_duration_s
            )
            try:
                await self._transcribe(pool, path, model, speed, signals)
                transcribed_s = time.monotonic() - t0
                await self._finish_diarization(signals)
            finally:
                if self._diarization:
                    self._diarization.stop()
        duration_s = self._tracker.duration_s if self._tracker else self._processed_s
        compute_s = time.monotonic() - t0
        speed.observe(duration_s - self._resume_s, transcribed_s)  # the model's speed: waiting on speakers aside
        await self._journal.append(
            Complete(
                job_id=self._job_id,
                attempt=self._number,
                language=self._language,
                language_probability=self._language_probability,
                duration_s=round(duration_s, 3),
                processing_s=round(compute_s, 3),
            )
        )
        log.info("job.completed", duration_s=round(duration_s, 2), processing_s=round(compute_s, 2))

    async def _planned_chunks(self, path: Path) -> bool:
        """Splits a long recording into chunks (see jobs/planning.py); False if it is transcribed whole.
        A job with speakers, or one resuming after its segments so far, is transcribed whole as before."""
        options = self._request.options
        whole = speaker_count(options.speakers, options.min_speakers, options.max_speakers) is not None
        if whole or self._resume_s > 0 or self._settings.chunk_threshold_s <= 0:
            return False
        try:
            planned = await asyncio.to_thread(planning.plan, path, self._settings)
        except audio.AudioError:
            return False  # the model process fails it with its code, as any job with such audio
        if planned is None:
            return False
        duration_s, spans = planned
        command = PlanChunks(
            job_id=self._job_id,
            attempt=self._number,
            duration_s=round(duration_s, 3),
            spans=spans,
            priority=options.priority,  # each chunk takes the job's place among its tenant's work
            planned_at=datetime.now(UTC),
        )
        await self._journal.append(command)
        log.info("job.chunked", chunks=len(spans), duration_s=round(duration_s, 1))
        return True

    async def _transcribe(
        self, pool: ModelPool, path: Path, model: str, speed: SpeedEstimate, signals: Signals
    ) -> None:
        async with pool.process() as process:
            job = TranscribeJob(
                audio_path=str(path),
                model=model,
                options=self._request.options,
                resume_s=self._resume_s,
                first_index=self._first_index,
            )
            await process.send(job)
            log.info("attempt.model_process", pid=process.pid, attempt=self._number)
            ended = False
            try:
                ended = await self._follow(process, speed, signals)
            finally:
                if not ended:  # stopped early: the process must drop the job before the next one
                    await process.stop_job(self._settings.stop_grace_s)

    async def _finish_diarization(self, signals: Signals) -> None:
        if self._diarization is not None:
            duration_s = self._tracker.duration_s if self._tracker else self._processed_s
            await record_turns(self._diarization, self._journal, signals, self._settings, duration_s)
        await self._report("finalizing", 1.0, self._tracker.duration_s if self._tracker else 0.0, 0.0)

    async def _follow(self, process: ModelProcess, speed: SpeedEstimate, signals: Signals) -> bool:
        """Appends what the process reports until it finishes; True once the process has ended the job."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.attempt_timeout_floor_s  # decoding: the floor alone
        while True:
            left = deadline - loop.time()
            if left <= 0:
                await process.kill()  # a hung decode or model call: only a kill stops it
                raise AttemptFailed("attempt_timeout", "the attempt ran past its time limit", permanent=False)
            try:
                report: FromChild | None = await process.receive(min(left, SIGNAL_CHECK_S))
            except TimeoutError:
                report = None
            signals.raise_if_set()
            match report:
                case Decoded(duration_s=duration_s):
                    deadline = loop.time() + self._limit_s(duration_s, speed)
                    self._tracker = ProgressTracker(
                        duration_s,
                        started_at=time.monotonic(),
                        resume_from_s=self._resume_s,
                        interval_s=self._settings.progress_interval_s,
                    )
                case LoadingModel():
                    await self._report("loading_model", self._progress(), self._resume_s)
                case Language(language=language, probability=probability):
                    self._language, self._language_probability = language, probability
                    await self._report("transcribing", self._progress(), self._resume_s)
                    if self._tracker:
                        self._tracker.due(self._resume_s, time.monotonic())  # that report counts as the first
                case SegmentReady(segment=segment):
                    await self._on_segment(segment)
                case Finished():
                    await self._flush(self._batcher.flush())
                    return True
                case Failed(code=code, message=message, permanent=permanent):
                    await self._flush(self._batcher.flush())  # keep what was transcribed: a retry resumes after it
                    raise AttemptFailed(code, message, permanent)
                case Stopped():
                    return True
                case None:
                    await self._on_tick()

    def _limit_s(self, duration_s: float, speed: SpeedEstimate) -> float:
        s = self._settings
        remaining = duration_s - self._resume_s
        return attempt_limit_s(remaining, speed.realtime_factor, s.attempt_timeout_floor_s, s.attempt_timeout_factor)

    def _progress(self) -> float:
        return round(self._resume_s / self._tracker.duration_s, 4) if self._tracker else 0.0

    async def _on_segment(self, segment: Segment) -> None:
        self._processed_s = segment.end
        await self._flush(self._batcher.add(segment, time.monotonic()))
        await self._report_if_due()

    async def _on_tick(self) -> None:
        await self._flush(self._batcher.due(time.monotonic()))
        await self._report_if_due()

    async def _report_if_due(self) -> None:
        if self._tracker is None:
            return
        snap = self._tracker.due(self._processed_s, time.monotonic())
        if snap is not None and snap.progress < 1.0:
            await self._report("transcribing", snap.progress, snap.processed_s, snap.eta_s)

    async def cancel(self) -> None:
        await self._journal.cancel()

    async def fail(self, code: str, retry_at: str | None = None) -> None:
        await self._journal.fail(code, retry_at)

    async def hand_back(self) -> None:
        """Keeps the segments transcribed so far, so the next worker resumes after them."""
        await self._flush(self._batcher.flush())

    async def _flush(self, batch: list[Segment]) -> None:
        await self._journal.segments(batch)

    async def _report(self, stage: Stage, progress: float, processed_s: float, eta_s: float | None = None) -> None:
        await self._journal.report(stage, progress, processed_s, eta_s)
