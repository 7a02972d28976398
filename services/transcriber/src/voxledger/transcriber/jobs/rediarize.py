"""Diarization re-runs of completed jobs: one DiarizationRequested in, its SpeakersDiarized out, with a
DiarizationProgressed about once a second while it runs (as a transcription reports its progress).

Heartbeated like a job; a redelivered request whose turns are already in the log is acked without work.
A file that cannot be decoded is terminated (it was transcribed, so this is rare); anything else is retried.
"""

import tempfile
import time
from pathlib import Path

import structlog
from faststream.nats.message import NatsMessage
from nats.js import JetStreamContext

from voxledger.contracts.decisions import Rejected
from voxledger.contracts.envelope import Envelope, Message
from voxledger.contracts.events import DiarizationRequested
from voxledger.runtime.aggregates import AggregateRepository, Loaded
from voxledger.runtime.consumers import heartbeat
from voxledger.runtime.messaging import ACK, TERM, Nak, Settlement
from voxledger.transcriber.adapters import audio
from voxledger.transcriber.domain.media import AudioError
from voxledger.transcriber.domain.recording import Recording, RecordRediarization, ReportRediarizationProgress
from voxledger.transcriber.domain.speakers import SpeakerCount, speaker_count
from voxledger.transcriber.jobs.diarizing import DiarizationRun
from voxledger.transcriber.settings import TranscriberSettings

log = structlog.get_logger(__name__)


class Rediarizer:
    def __init__(self, js: JetStreamContext, repo: AggregateRepository[Recording], settings: TranscriberSettings):
        self._js, self._repo, self._settings = js, repo, settings

    async def handle(self, message: Message, msg: NatsMessage) -> Settlement:
        request = message.body_as(DiarizationRequested)
        loaded = await self._repo.load(message.envelope.aggregate_id)
        job = loaded.state.jobs.get(request.job_id)
        structlog.contextvars.bind_contextvars(job_id=request.job_id, run_id=request.run_id)
        if loaded.state.deleted or job is None or job.diarization_runs.get(request.run_id) is not False:
            return ACK  # done already, or nothing left to do it for
        options = request.options
        count = speaker_count(options.speakers, options.min_speakers, options.max_speakers) or SpeakerCount()
        try:
            async with heartbeat(msg, self._settings.heartbeat_s):
                turns, spent = await self._diarize(loaded, request, message.envelope, count)
            command = RecordRediarization(job_id=job.job_id, run_id=request.run_id, turns=turns, processing_s=spent)
            await self._repo.execute(loaded, command, message.envelope)
        except Rejected as err:
            log.info("rediarization.settled", reason=err.message)  # deleted meanwhile
            return ACK
        except AudioError as err:
            log.warning("rediarization.failed_permanently", code=err.code, reason=str(err))
            return TERM
        except Exception:
            log.exception("rediarization.failed_transiently")
            return Nak(self._settings.retry_base_s)
        log.info("rediarization.done", speakers=len({t.speaker for t in turns}), cpu_s=spent)
        return ACK

    async def _diarize(
        self, loaded: Loaded[Recording], request: DiarizationRequested, cause: Envelope, count: SpeakerCount
    ) -> tuple[list, float]:
        with tempfile.TemporaryDirectory(prefix="voxledger-diarize-") as workdir:
            path = await audio.fetch_blob(self._js, loaded.state.blob_key, Path(workdir))
            run = DiarizationRun(path, count, self._settings.max_audio_duration_s)
            try:
                shown, interval_s = 0.0, self._settings.progress_interval_s
                while not run.done():
                    shown = max(shown, round(run.progress, 4))
                    report = ReportRediarizationProgress(job_id=request.job_id, run_id=request.run_id, progress=shown)
                    started = time.monotonic()
                    await self._repo.execute(loaded, report, cause)
                    await run.wait(interval_s - (time.monotonic() - started))
                return run.turns(), run.processing_s
            finally:
                run.stop()
