"""The worker's output, as the live socket's sender task relays it: admission, then interims, finals and the end."""

import asyncio
import time

import msgspec
from litestar.exceptions import WebSocketDisconnect

from voxledger.contracts import events as ev
from voxledger.contracts.live import LiveInterim
from voxledger.gateway.domain import live_protocol as proto
from voxledger.gateway.handlers.live_channel import INTERNAL_ERROR, LiveChannel


async def admitted(out: asyncio.Queue, timeout_s: float) -> int | None:
    """The stream sequence of the session's LiveSessionStarted (a worker claimed it), if it arrives in time."""
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            item = await asyncio.wait_for(out.get(), left)
        except TimeoutError:
            return None
        if isinstance(item, tuple) and isinstance(item[1], ev.LiveSessionStarted):
            return item[0]
    return None


class Forwarder:
    """Interims, finals (each once, in order) and the end, from the worker's output to the client."""

    def __init__(self, channel: LiveChannel, out: asyncio.Queue, session_id: str, job_id: str, last_final: int):
        self._channel = channel
        self._out = out
        self._session_id = session_id
        self._job_id = job_id
        self._last_final = last_final

    async def run(self, ended: asyncio.Event) -> None:
        try:
            await self._until_ended()
        except WebSocketDisconnect:
            pass  # the client is gone: the session stays open to be resumed
        finally:
            ended.set()  # nothing more will reach this client

    async def _until_ended(self) -> None:
        send = self._channel.send
        while True:
            item = await self._out.get()
            match item[1] if isinstance(item, tuple) else item:
                case LiveInterim(index=index) if index > self._last_final:
                    await send({"type": "interim", **msgspec.to_builtins(item)})
                case ev.SegmentsTranscribed(job_id=job_id, segments=segments) if job_id == self._job_id:
                    for segment in segments:
                        if segment.index > self._last_final:
                            await send(proto.final(segment))
                            self._last_final = segment.index
                case ev.TranscriptionFailed(job_id=job_id, error_code=code, message=message) if job_id == self._job_id:
                    await send(proto.error(code, message, fatal=True))  # the worker could not serve it
                case ev.LiveSessionEnded(reason=reason, duration_s=duration_s, stats=stats):
                    ended = {"type": "ended", "session_id": self._session_id, "recording_id": self._session_id}
                    await send(
                        {**ended, "reason": reason, "duration_s": duration_s, "stats": msgspec.to_builtins(stats)}
                    )
                    # Ended by the worker too (held too long, too little audio): the socket goes with the session.
                    closing = (INTERNAL_ERROR, "session_failed") if reason == "failed" else (1000, reason)
                    await self._channel.close(*closing)
                    return
