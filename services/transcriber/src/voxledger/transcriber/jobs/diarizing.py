"""A job's diarization, run in a thread of the worker next to the model process's transcription.

It decodes the whole file itself (a resumed transcription may start late; speaker turns need all of it), within
the length limit every decode has, and stops at its next decoded frame or progress report once the attempt ends
early (cancel, hand-back, lost lease, a failure): a stopped job's decode never runs on in the background.
"""

import asyncio
import contextlib
import math
import threading
import time
from pathlib import Path

import structlog

from voxledger.contracts.events import SpeakerTurn, TranscriptionOptions
from voxledger.transcriber.adapters import audio, diarizer
from voxledger.transcriber.domain.recording import RecordSpeakers
from voxledger.transcriber.domain.speakers import SpeakerCount, speaker_count
from voxledger.transcriber.jobs.journal import AttemptJournal
from voxledger.transcriber.jobs.signals import SIGNAL_CHECK_S, AttemptFailed, Signals
from voxledger.transcriber.settings import TranscriberSettings

log = structlog.get_logger(__name__)


class Stopped(Exception):
    """The attempt no longer wants the turns."""


class DiarizationRun:
    def __init__(self, path: Path, count: SpeakerCount, max_duration_s: float):
        self.progress = 0.0
        self.processing_s = 0.0
        self._stop = threading.Event()
        self._max_duration_s = max_duration_s
        self._task = asyncio.create_task(asyncio.to_thread(self._work, path, count))
        self._task.add_done_callback(self._settled)

    def _work(self, path: Path, count: SpeakerCount) -> list[SpeakerTurn]:
        start = time.thread_time()  # this thread's CPU: onnxruntime runs on it (one intra-op thread)
        samples, _ = audio.decode(path, max_duration_s=self._max_duration_s, interrupt=self._raise_if_stopped)
        turns = diarizer.shared().diarize(samples, count, self._on_progress)
        self.processing_s = round(time.thread_time() - start, 3)
        return [SpeakerTurn(t.start, t.end, t.speaker) for t in turns]

    def _raise_if_stopped(self) -> None:
        if self._stop.is_set():
            raise Stopped()

    def _on_progress(self, progress: float) -> None:
        self._raise_if_stopped()
        self.progress = progress

    @staticmethod
    def _settled(task: asyncio.Task) -> None:
        if not task.cancelled() and isinstance(err := task.exception(), Exception) and not isinstance(err, Stopped):
            log.warning("diarization.failed", error=repr(err))  # raised again to the attempt that awaits it

    def done(self) -> bool:
        return self._task.done()

    async def wait(self, timeout_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), timeout_s)

    def turns(self) -> list[SpeakerTurn]:
        return self._task.result()

    def stop(self) -> None:
        self._stop.set()


def start_diarization(
    options: TranscriptionOptions, diarized: bool, path: Path, max_duration_s: float
) -> DiarizationRun | None:
    """Speaker turns, concurrently with transcription, unless not asked for or already in the log."""
    count = speaker_count(options.speakers, options.min_speakers, options.max_speakers)
    if count is None or diarized:
        return None
    return DiarizationRun(path, count, max_duration_s)


async def record_turns(
    run: DiarizationRun, journal: AttemptJournal, signals: Signals, settings: TranscriberSettings, duration_s: float
) -> None:
    """Waits for the turns (the `diarizing` stage, when transcription finished first) and appends them."""
    # A generous bound (diarization runs at a few percent of real time): a hung one must not hold the job.
    deadline = time.monotonic() + settings.attempt_timeout_floor_s + duration_s
    last, shown = -math.inf, journal.progress_shown
    while not run.done():
        signals.raise_if_set()
        if time.monotonic() > deadline:
            raise AttemptFailed("attempt_timeout", "diarization ran past its time limit", permanent=False)
        if time.monotonic() - last >= settings.progress_interval_s:
            # Job progress never goes back: diarizing continues from where transcription left it.
            last, shown = time.monotonic(), max(shown, round(run.progress, 4))
            await journal.report("diarizing", shown, duration_s)
        await run.wait(SIGNAL_CHECK_S)
    signals.raise_if_set()
    command = RecordSpeakers(
        job_id=journal.job_id, attempt=journal.number, turns=run.turns(), processing_s=run.processing_s
    )
    await journal.append(command)
    log.info("job.diarized", speakers=len({t.speaker for t in command.turns}), cpu_s=run.processing_s)
