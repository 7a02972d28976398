"""The model child process: decodes audio and runs faster-whisper for the worker that started it.

It reads jobs from stdin and reports over stdout (see model_process.py, its parent side).
Between segments it checks for a Stop, so a cancelled job ends at the next
segment boundary. Whatever else writes to stdout is sent to stderr instead,
where the logs go, so nothing can corrupt the frames.
"""

import contextlib
import ctypes
import os
import select
import signal
import sys
from pathlib import Path
from typing import BinaryIO

import msgspec
import numpy as np
import structlog

from voxledger.runtime.lifecycle import start_service
from voxledger.transcriber.adapters import audio
from voxledger.transcriber.adapters.model import ModelCache, ModelUnavailable, transcribe
from voxledger.transcriber.adapters.model_process import (
    HEADER,
    Decoded,
    Failed,
    Finished,
    FromChild,
    Language,
    LoadingModel,
    Ready,
    SegmentReady,
    Stop,
    Stopped,
    ToChild,
    TranscribeJob,
    frame,
)
from voxledger.transcriber.settings import TranscriberSettings

log = structlog.get_logger(__name__)

PR_SET_PDEATHSIG = 1


class Channel:
    """Frames over raw file descriptors: unbuffered, so select() sees every pending Stop."""

    def __init__(self, inbound_fd: int, outbound: BinaryIO):
        self._in = inbound_fd
        self._out = outbound
        self._decoder = msgspec.msgpack.Decoder(ToChild)

    def receive(self) -> ToChild | None:
        """The next message, or None once the worker has closed the pipe."""
        header = self._read_exactly(HEADER)
        if header is None:
            return None
        payload = self._read_exactly(int.from_bytes(header, "big"))
        return None if payload is None else self._decoder.decode(payload)

    def stop_requested(self) -> bool:
        readable, _, _ = select.select([self._in], [], [], 0)
        return bool(readable) and isinstance(self.receive(), Stop | None)

    def send(self, message: FromChild) -> None:
        self._out.write(frame(message))
        self._out.flush()

    def _read_exactly(self, size: int) -> bytes | None:
        chunks, left = [], size
        while left:
            chunk = os.read(self._in, left)
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


def run_job(job: TranscribeJob, models: ModelCache, channel: Channel, settings: TranscriberSettings) -> None:
    try:
        samples, duration_s = _samples(job, settings)
        channel.send(Decoded(duration_s=duration_s))
        if not models.is_loaded(job.model):
            channel.send(LoadingModel())
        model = models.get(job.model)
        language, probability, segments = transcribe(
            model, samples, job.options, job.resume_s, job.first_index, settings.batch_size
        )
        channel.send(Language(language=language, probability=probability))
        for segment in segments:
            if channel.stop_requested():
                channel.send(Stopped())
                return
            channel.send(SegmentReady(segment=segment))
    except (audio.AudioError, ModelUnavailable) as err:
        channel.send(Failed(code=err.code, message=str(err), permanent=True))
        return
    except Exception as err:
        log.exception("model_host.job_failed")
        channel.send(Failed(code="internal_error", message=f"{type(err).__name__}: {err}", permanent=False))
        return
    channel.send(Finished())


def _samples(job: TranscribeJob, settings: TranscriberSettings) -> tuple[np.ndarray, float]:
    """The job's audio from `resume_s` on, and its length; a chunk's window only (the demuxer seeks to it)."""
    path = Path(job.audio_path)
    if job.window_end_s is None:
        return audio.decode(path, job.resume_s, settings.max_audio_duration_s)
    samples = audio.decode_window(path, job.resume_s, job.window_end_s)
    return samples, job.window_end_s - job.resume_s


def die_with_parent() -> None:
    """A worker killed with -9 must not leave its model process computing for nobody (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def main() -> None:
    die_with_parent()
    settings = start_service("transcriber.model", TranscriberSettings)
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray writes to stdout (native libraries) land in the log, not in the frames
    sys.stdout = sys.stderr
    channel = Channel(sys.stdin.fileno(), protocol_out)
    models = ModelCache(settings.device, settings.compute_type, settings.cpu_threads, settings.allow_model_download)
    models.get(settings.model)  # load before saying ready, so the first job does not pay for it
    channel.send(Ready())
    while (message := channel.receive()) is not None:
        if isinstance(message, TranscribeJob):
            run_job(message, models, channel, settings)
        # a Stop that arrives between jobs is late: the job it meant already ended


if __name__ == "__main__":
    main()
