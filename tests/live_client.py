"""A live-transcription test client: streams PCM over WS /v1/live at a chosen pace and records what comes back."""

import asyncio
import json
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import websockets

FRAME_S = 0.1


def read_pcm(path: Path) -> tuple[bytes, int]:
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        return w.readframes(w.getnframes()), w.getframerate()


def ws_url(stack) -> str:
    return stack.http_url.replace("http://", "ws://") + "/v1/live"


@dataclass
class LiveRun:
    session_id: str = ""
    messages: list[tuple[float, dict]] = field(default_factory=list)  # (seconds since the first frame, message)
    started_at: float = 0.0

    def of(self, kind: str) -> list[dict]:
        return [m for _, m in self.messages if m["type"] == kind]

    @property
    def finals(self) -> list[dict]:
        return self.of("final")

    @property
    def ended(self) -> dict | None:
        return next(iter(self.of("ended")), None)


async def receive_until_ended(ws, run: LiveRun) -> None:
    async for raw in ws:
        message = json.loads(raw)
        run.messages.append((time.monotonic() - run.started_at, message))
        if message["type"] == "ended":
            return


async def send_paced(
    ws, pcm: bytes, rate: int, *, start_byte: int = 0, stop_byte: int | None = None, speed: float = 1.0
) -> None:
    step = int(rate * FRAME_S) * 2
    t0 = time.monotonic()
    end = len(pcm) if stop_byte is None else stop_byte
    for i, offset in enumerate(range(start_byte, end, step)):
        await ws.send(pcm[offset : min(offset + step, end)])
        await asyncio.sleep(max(0.0, t0 + (i + 1) * FRAME_S / speed - time.monotonic()))


async def stream(
    url: str,
    api_key: str,
    pcm: bytes,
    rate: int,
    speed: float = 1.0,
    run: LiveRun | None = None,
    started: asyncio.Event | None = None,
) -> LiveRun:
    """A whole session: start, audio at `speed` x real time, stop, and every message up to `ended`.
    `started` is set once a worker holds the session (its `ready`)."""
    run = run or LiveRun()
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {api_key}"}, max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "sample_rate": rate, "encoding": "pcm_s16le", "language": "en"}))
        ready = json.loads(await asyncio.wait_for(ws.recv(), 60))
        assert ready["type"] == "ready", ready
        run.session_id = ready["session_id"]
        run.started_at = time.monotonic()
        if started is not None:
            started.set()
        receiving = asyncio.create_task(receive_until_ended(ws, run))
        await send_paced(ws, pcm, rate, speed=speed)
        await ws.send(json.dumps({"type": "stop"}))
        await asyncio.wait_for(receiving, 180)
    return run
