"""What a key opened ends with the key, on the shared stack: an event stream (tenant-wide or one recording's) and a
live socket opened before the key was revoked, or before it expired, end within a second of it; nothing of the
tenant's reaches them afterwards, and no audio sent after the revocation is stored."""

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import websockets
from httpx_sse import connect_sse

from tests.helpers import AUDIO, eventually, upload
from tests.live_client import FRAME_S, read_pcm, ws_url
from tests.test_api_keys import REVOCATION_BOUND_S, issue, usable
from tests.test_live import wait_recording_completed


class Followed:
    """An SSE stream read in a thread: its events as they come, and when it ended."""

    def __init__(self, client: httpx.Client, path: str):
        self.events: list[dict] = []
        self.opened = threading.Event()
        self.ended_at: float | None = None
        self._client, self._path = client, path
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        with connect_sse(self._client, "GET", self._path, timeout=httpx.Timeout(30, read=None)) as source:
            assert source.response.status_code == 200
            for sse in source.iter_sse():
                if sse.data:
                    self.events.append({"event": sse.event, **json.loads(sse.data)})
                    self.opened.set()
        self.ended_at = time.monotonic()

    def wait_opened(self) -> None:
        assert self.opened.wait(30), f"nothing came on {self._path}"

    def ended_within(self, since: float, bound_s: float) -> float:
        eventually(lambda: self.ended_at is not None, f"{self._path} ended", bound_s + 10, 0.01)
        assert self.ended_at is not None
        return self.ended_at - since


def test_revoking_a_key_ends_its_open_event_streams_within_a_second(stack, client, capsys):
    recording = upload(client, "short_meeting.ogg", transcribe="false").json()["recording_id"]
    created = issue(client, label="dashboard", scope="member")
    member = usable(stack, created["key"])
    streams = [Followed(member, "/v1/events"), Followed(member, f"/v1/recordings/{recording}/events")]
    for stream in streams:
        stream.wait_opened()

    revoked_at = time.monotonic()
    assert client.delete(f"/v1/keys/{created['id']}").status_code == 202
    took = [stream.ended_within(revoked_at, REVOCATION_BOUND_S) for stream in streams]
    with capsys.disabled():
        print(f"\nevent streams of a revoked key ended {max(took) * 1000:.0f} ms after the DELETE answered")
    assert max(took) < REVOCATION_BOUND_S
    for stream in streams:
        assert stream.events[-1] == {"event": "closed", "code": "key_revoked", "detail": "the API key was revoked"}
    seen = [len(stream.events) for stream in streams]
    upload(client, "short_meeting.ogg", transcribe="false")  # the tenant goes on: nothing reaches the old streams
    assert [len(stream.events) for stream in streams] == seen


def test_an_event_stream_ends_when_its_key_expires(stack, client):
    expires = datetime.now(UTC) + timedelta(seconds=4)
    member = usable(stack, issue(client, label="short", scope="member", expires_at=expires.isoformat())["key"])
    stream = Followed(member, "/v1/events")
    stream.wait_opened()
    left_s = (expires - datetime.now(UTC)).total_seconds()
    assert left_s > 0, "the key expired before the stream opened: the machine is too slow for this test"
    took = stream.ended_within(time.monotonic(), left_s + REVOCATION_BOUND_S)
    assert datetime.now(UTC) >= expires and took < left_s + REVOCATION_BOUND_S
    assert stream.events[-1]["code"] == "key_expired"


class Revoked:
    """What a live client saw of its session's key being revoked: when, what came after, how the socket closed."""

    def __init__(self) -> None:
        self.at = 0.0
        self.sent_s = 0.0  # seconds of audio sent, up to the close
        self.messages: list[tuple[float, dict]] = []  # (time received, message)
        self.closed_at = 0.0
        self.close: tuple[int, str] | None = None

    def after(self) -> list[dict]:
        return [m for at, m in self.messages if at >= self.at]


async def live_session_revoked(url: str, key: str, revoke) -> tuple[str, Revoked]:
    """A live session of `key` whose key `revoke()` revokes after a second of audio; the client goes on sending
    at real time until the socket closes. The session's id, and what the client saw."""
    pcm, rate = read_pcm(AUDIO / "short_meeting.wav")
    step, seen = int(rate * FRAME_S) * 2, Revoked()
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        await ws.send(json.dumps({"type": "start", "sample_rate": rate, "encoding": "pcm_s16le", "language": "en"}))
        ready = json.loads(await asyncio.wait_for(ws.recv(), 60))
        assert ready["type"] == "ready", ready

        async def pump() -> None:
            for offset in range(0, len(pcm), step):
                await ws.send(pcm[offset : offset + step])
                seen.sent_s += FRAME_S
                await asyncio.sleep(FRAME_S)

        async def revoke_after_a_second() -> None:
            await asyncio.sleep(1.0)
            seen.at = time.monotonic()
            await asyncio.to_thread(revoke)

        sending, revoking = asyncio.create_task(pump()), asyncio.create_task(revoke_after_a_second())
        try:
            async for raw in ws:
                seen.messages.append((time.monotonic(), json.loads(raw)))
        except websockets.ConnectionClosed as closed:
            seen.close = (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else None
        seen.closed_at = time.monotonic()
        sending.cancel()
        await revoking
    return ready["session_id"], seen


async def test_revoking_a_key_closes_its_live_socket_and_no_later_audio_is_stored(stack, client, capsys):
    created = issue(client, label="microphone", scope="member")
    usable(stack, created["key"])

    def revoke() -> None:
        assert client.delete(f"/v1/keys/{created['id']}").status_code == 202

    session_id, seen = await live_session_revoked(ws_url(stack), created["key"], revoke)
    with capsys.disabled():
        print(
            f"\nlive socket of a revoked key closed {(seen.closed_at - seen.at) * 1000:.0f} ms after the DELETE was sent"
        )
    assert seen.at > 0 and seen.closed_at - seen.at < REVOCATION_BOUND_S
    assert seen.close == (1008, "key_revoked")
    after = seen.after()
    assert after and after[-1]["type"] == "error" and after[-1]["code"] == "key_revoked", after
    # The session ended at once with the audio taken before the close: none sent after it was stored.
    recording = wait_recording_completed(client, session_id, 120)
    assert recording["duration_s"] <= seen.sent_s + FRAME_S


def test_a_request_waiting_for_its_job_answers_401_once_its_key_is_revoked(stack, client):
    created = issue(client, label="openai sdk", scope="member")
    member = usable(stack, created["key"])
    answered: list[tuple[float, httpx.Response]] = []

    def transcribe() -> None:  # an OpenAI-compatible request: it waits for its job (a minute of audio)
        with (AUDIO / "bench_60s.ogg").open("rb") as f:
            files = {"file": ("bench_60s.ogg", f)}
            answer = member.post("/v1/audio/transcriptions", files=files, data={"model": "whisper-1"}, timeout=120)
        answered.append((time.monotonic(), answer))

    waiting = threading.Thread(target=transcribe, daemon=True)
    waiting.start()
    [job] = eventually(lambda: client.get("/v1/jobs").json()["items"], "the job listed", 30)
    assert not answered, "the job ended before the revocation: nothing was left waiting"
    revoked_at = time.monotonic()
    assert client.delete(f"/v1/keys/{created['id']}").status_code == 202
    waiting.join(REVOCATION_BOUND_S + 10)
    [(at, answer)] = answered
    assert at - revoked_at < REVOCATION_BOUND_S
    assert answer.status_code == 401 and answer.json()["code"] == "key_revoked", answer.text
    # The job is the tenant's and goes on after its key's end: cancelled here only to free the worker.
    assert client.post(f"/v1/jobs/{job['job_id']}/cancel").status_code == 202
