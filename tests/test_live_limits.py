"""Live capacity one tenant cannot hold on its own: a tenant's share of a worker's slots, a wall-clock cap per
session, and an end for sessions that send too little audio to earn their slot. One live worker, two slots."""

import asyncio
import json
import time

import websockets

from tests.live_client import ws_url

RATE = 16_000
FRAME = bytes(2 * RATE // 10)  # 100 ms of silence: silence is audio, as a quiet microphone sends it
TRICKLE = bytes(2 * RATE // 100)  # 10 ms, once a second
MAX_WALL_S, WINDOW_S = 20, 4
ENV = {
    "VOXLEDGER_LIVE_MAX_SESSIONS": "2",  # one tenant's share: one of them
    "VOXLEDGER_LIVE_ADMISSION_TIMEOUT_S": "5",
    "VOXLEDGER_LIVE_MAX_WALL_S": str(MAX_WALL_S),
    "VOXLEDGER_LIVE_AUDIO_WINDOW_S": str(WINDOW_S),
    "VOXLEDGER_LIVE_MIN_AUDIO_RATIO": "0.5",
}


async def opened(url: str, key: str):
    """A socket that sent `start`, and the first message back (ready, or a refusal)."""
    ws = await websockets.connect(url, additional_headers={"Authorization": f"Bearer {key}"})
    await ws.send(json.dumps({"type": "start", "sample_rate": RATE, "encoding": "pcm_s16le", "language": "en"}))
    return ws, json.loads(await asyncio.wait_for(ws.recv(), 60))


async def send_until_ended(ws, frame: bytes, every_s: float) -> tuple[dict, float]:
    """Sends `frame` every `every_s` until the session's `ended`; that message and how long the socket sent."""
    started = time.monotonic()

    async def pump() -> None:
        while True:
            await ws.send(frame)
            await asyncio.sleep(every_s)

    sending = asyncio.create_task(pump())
    try:
        async for raw in ws:
            if (message := json.loads(raw))["type"] == "ended":
                return message, time.monotonic() - started
    finally:
        sending.cancel()
    raise AssertionError("the socket closed before `ended`")


async def scenario(url: str, key_a: str, key_b: str) -> None:
    a1, ready = await opened(url, key_a)
    assert ready["type"] == "ready", ready
    a1_done = asyncio.create_task(send_until_ended(a1, FRAME, 0.1))  # real time, all along

    (a2, refused), (b, b_ready) = await asyncio.gather(opened(url, key_a), opened(url, key_b))
    assert refused["type"] == "error" and refused["code"] == "no_live_capacity", refused
    assert b_ready["type"] == "ready", f"tenant B found no room while A held one slot: {b_ready}"
    await a2.close()

    ended, sent_s = await asyncio.wait_for(send_until_ended(b, TRICKLE, 1.0), 30)
    assert ended["reason"] == "inactivity" and sent_s < WINDOW_S + 10, (ended, sent_s)

    ended, sent_s = await asyncio.wait_for(a1_done, MAX_WALL_S + 30)
    assert ended["reason"] == "max_duration", ended
    assert MAX_WALL_S - 5 < sent_s < MAX_WALL_S + 10, sent_s  # the wall clock ended it, not the audio it sent
    await asyncio.gather(a1.close(), b.close())


async def test_a_tenant_holds_its_share_of_live_slots_and_idle_or_endless_sessions_end(own_stack, client_on):
    stack = await asyncio.to_thread(own_stack, env=ENV)  # on a thread: the supervisor's start runs a loop of its own
    a, b = await client_on(stack, "live-a"), await client_on(stack, "live-b")
    keys = [c.headers["Authorization"].split()[1] for c in (a, b)]
    await scenario(ws_url(stack), *keys)
