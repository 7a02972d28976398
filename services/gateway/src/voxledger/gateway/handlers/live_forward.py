"""The worker's output, as the live socket's sender task relays it: admission, then interims, finals, turn
events and the end. What each reads like on the wire is the socket's Messages (native, or Deepgram's)."""

import asyncio
import time
from typing import Protocol

from litestar.exceptions import WebSocketDisconnect

from voxledger.contracts import events as ev
from voxledger.contracts.live import LiveInterim, LiveTurn
from voxledger.gateway.domain import live_protocol as proto
from voxledger.gateway.handlers.live_channel import INTERNAL_ERROR, LiveChannel

Out = list[dict[str, object]]


class Messages(Protocol):
    def interim(self, interim: LiveInterim) -> Out: ...
    def final(self, segment: ev.Segment, speech_final: bool) -> Out: ...
    def turn(self, event: LiveTurn) -> Out: ...
    def error(self, code: str, message: str) -> Out: ...
    def ended(self, session_id: str, reason: str, duration_s: float, stats: object) -> Out: ...


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
    """Interims, finals (each once, in order), turn events and the end, from the worker's output to the client.

    A turn event comes on core NATS, a final through the event log: one that overtook the finals it follows
    waits for them."""

    def __init__(
        self,
        channel: LiveChannel,
        out: asyncio.Queue,
        session_id: str,
        job_id: str,
        last_final: int,
        messages: Messages | None = None,
    ):
        self._channel = channel
        self._out = out
        self._session_id = session_id
        self._job_id = job_id
        self._last_final = last_final
        self._messages = messages or proto.NativeMessages()
        self._held: list[LiveTurn] = []

    async def run(self, ended: asyncio.Event) -> None:
        try:
            await self._until_ended()
        except WebSocketDisconnect:
            pass  # the client is gone: the session stays open to be resumed
        finally:
            ended.set()  # nothing more will reach this client

    async def _send(self, messages: Out) -> None:
        for message in messages:
            await self._channel.send(message)

    async def _until_ended(self) -> None:
        render = self._messages
        while True:
            item = await self._out.get()
            match item[1] if isinstance(item, tuple) else item:
                case LiveInterim(index=index) if index > self._last_final:
                    await self._send(render.interim(item))
                case LiveTurn() as turn:
                    self._held.append(turn)
                    await self._release_turns()
                case ev.SegmentsTranscribed(job_id=job_id, segments=segments) as done if job_id == self._job_id:
                    for segment in segments:
                        if segment.index > self._last_final:
                            await self._send(render.final(segment, done.speech_final and segment is segments[-1]))
                            self._last_final = segment.index
                    await self._release_turns()
                case ev.TranscriptionFailed(job_id=job_id, error_code=code, message=message) if job_id == self._job_id:
                    await self._send(render.error(code, message))  # the worker could not serve it
                case ev.LiveSessionEnded(reason=reason, duration_s=duration_s, stats=stats):
                    await self._send(render.ended(self._session_id, reason, duration_s, stats))
                    # Ended by the worker too (held too long, too little audio): the socket goes with the session.
                    closing = (INTERNAL_ERROR, "session_failed") if reason == "failed" else (1000, reason)
                    await self._channel.close(*closing)
                    return

    async def _release_turns(self) -> None:
        """Sends the held turn events whose finals the client has."""
        due = [t for t in self._held if t.after_index <= self._last_final + 1]
        self._held = [t for t in self._held if t.after_index > self._last_final + 1]
        for turn in due:
            await self._send(self._messages.turn(turn))
