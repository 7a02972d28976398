"""faster-whisper in a child process, so a hung decode or model call can be killed without the worker.

The worker (parent) sends one job at a time over the child's stdin and reads
what the child reports over its stdout: length-prefixed msgpack frames. The
child keeps its models loaded between jobs; it is only replaced after a kill.
"""

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator

import msgspec
import structlog

from voxledger.contracts.events import Segment, TranscriptionOptions

log = structlog.get_logger(__name__)

HEADER = 4  # bytes of big-endian frame length


# --- parent to child ---


class TranscribeJob(msgspec.Struct, tag="job", kw_only=True):
    audio_path: str
    model: str
    options: TranscriptionOptions
    resume_s: float
    first_index: int
    window_end_s: float | None = None  # set: a chunk's window [resume_s, window_end_s) only, decoded alone


class Stop(msgspec.Struct, tag="stop"):
    """Abandon the current job at the next segment boundary."""


# --- child to parent ---


class Ready(msgspec.Struct, tag="ready"):
    pass


class Decoded(msgspec.Struct, tag="decoded"):
    duration_s: float


class LoadingModel(msgspec.Struct, tag="loading_model"):
    pass


class Language(msgspec.Struct, tag="language"):
    language: str
    probability: float | None = None


class SegmentReady(msgspec.Struct, tag="segment"):
    segment: Segment


class Finished(msgspec.Struct, tag="finished"):
    pass


class Stopped(msgspec.Struct, tag="stopped"):
    pass


class Failed(msgspec.Struct, tag="failed", kw_only=True):
    code: str
    message: str
    permanent: bool


ToChild = TranscribeJob | Stop
FromChild = Ready | Decoded | LoadingModel | Language | SegmentReady | Finished | Stopped | Failed
JOB_END = (Finished, Stopped, Failed)


def frame(message: ToChild | FromChild) -> bytes:
    payload = msgspec.msgpack.encode(message)
    return len(payload).to_bytes(HEADER, "big") + payload


class ChildDied(Exception):
    code = "model_process_died"


class ModelProcess:
    """One child process running `voxledger.transcriber.adapters.model_host`; settings reach it through the environment."""

    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._inbox: asyncio.Queue[FromChild | ChildDied] = asyncio.Queue()
        self._reader: asyncio.Task | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self, ready_timeout_s: float) -> None:
        self._inbox = asyncio.Queue()
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "voxledger.transcriber.adapters.model_host",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=os.environ.copy(),
        )
        self._reader = asyncio.create_task(self._read_frames(self._proc))
        first = await self.receive(ready_timeout_s)
        if not isinstance(first, Ready):
            raise ChildDied(f"model process did not start: {first!r}")
        log.info("model_process.started", pid=self._proc.pid)

    async def send(self, message: ToChild) -> None:
        assert self._proc and self._proc.stdin
        self._proc.stdin.write(frame(message))
        await self._proc.stdin.drain()

    async def receive(self, timeout_s: float) -> FromChild:
        """The child's next report; TimeoutError if it says nothing in time, ChildDied if it is gone."""
        item = await asyncio.wait_for(self._inbox.get(), timeout_s)
        if isinstance(item, ChildDied):
            raise item
        return item

    async def stop_job(self, grace_s: float) -> None:
        """Asks the child to drop its job; kills it if it does not within `grace_s` (a hung call)."""
        if not self.alive:
            return
        with contextlib.suppress(ConnectionError):
            await self.send(Stop())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        with contextlib.suppress(ChildDied):
            while (left := deadline - loop.time()) > 0:
                try:
                    if isinstance(await self.receive(left), JOB_END):
                        return
                except TimeoutError:
                    break
        await self.kill()

    async def kill(self) -> None:
        if self._proc is None:
            return
        if self._proc.returncode is None:
            log.warning("model_process.killed", pid=self._proc.pid)
            self._proc.kill()
        await self._proc.wait()
        if self._reader:
            await self._reader

    async def _read_frames(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout
        decoder = msgspec.msgpack.Decoder(FromChild)
        try:
            while True:
                size = int.from_bytes(await proc.stdout.readexactly(HEADER), "big")
                self._inbox.put_nowait(decoder.decode(await proc.stdout.readexactly(size)))
        except (asyncio.IncompleteReadError, ConnectionError):
            code = await proc.wait()
            self._inbox.put_nowait(ChildDied(f"the model process exited with status {code}"))


class ModelPool:
    """A fixed number of model processes: the number of jobs this worker runs at once."""

    def __init__(self, size: int, ready_timeout_s: float):
        self._ready_timeout_s = ready_timeout_s
        self._all = [ModelProcess() for _ in range(size)]
        self._idle: asyncio.Queue[ModelProcess] = asyncio.Queue()
        for process in self._all:
            self._idle.put_nowait(process)

    @property
    def size(self) -> int:
        return len(self._all)

    async def start(self) -> None:
        await asyncio.gather(*(p.start(self._ready_timeout_s) for p in self._all))

    @contextlib.asynccontextmanager
    async def process(self) -> AsyncIterator[ModelProcess]:
        """An idle process, restarted first if an earlier job had to kill it."""
        process = await self._idle.get()
        try:
            if not process.alive:
                await process.start(self._ready_timeout_s)
            yield process
        finally:
            self._idle.put_nowait(process)

    async def close(self) -> None:
        await asyncio.gather(*(p.kill() for p in self._all))
