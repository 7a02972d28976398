"""Live transcription over WS /v1/live on the real stack: a fixture streamed at real-time pace."""

import asyncio
import json

import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import AUDIO, eventually, metrics_text, new_client, reference, upload, wait_job
from tests.live_client import read_pcm, stream, ws_url
from tests.wer import BATCH_WER, STREAMING_GAP, STREAMING_WER, assert_wer
from voxledger.contracts.streams import LIVE_SESSIONS_BUCKET

REFERENCE = reference("short_meeting.wav")


@pytest.fixture(scope="module")
def live_client(stack):
    with new_client(stack, "live-tests") as c:
        yield c


def api_key(client) -> str:
    return client.headers["Authorization"].split()[1]


@pytest.fixture(scope="module")
async def streamed(stack, live_client):
    """One session of the short fixture at real-time pace, shared by the tests that read its outcome."""
    pcm, rate = read_pcm(AUDIO / "short_meeting.wav")
    return await stream(ws_url(stack), api_key(live_client), pcm, rate)


def live_sessions(stack) -> dict[str, float]:
    """The gateway's voxledger_live_sessions gauge, by state."""
    families = text_string_to_metric_families(metrics_text(stack))
    return {s.labels["state"]: s.value for f in families if f.name == "voxledger_live_sessions" for s in f.samples}


def wait_recording_completed(client, recording_id: str, timeout_s: float = 30) -> dict:
    def completed() -> dict | None:
        body = client.get(f"/v1/recordings/{recording_id}").json()
        return body if body.get("status") == "completed" else None

    return eventually(completed, f"recording {recording_id} completed", timeout_s)


def test_interims_then_finals_in_order(streamed):
    kinds = [m["type"] for _, m in streamed.messages]
    assert "interim" in kinds and "final" in kinds
    assert kinds.index("interim") < kinds.index("final")
    assert kinds[-1] == "ended"
    assert [f["index"] for f in streamed.finals] == list(range(len(streamed.finals)))
    for f in streamed.finals:
        assert 0 <= f["start"] < f["end"] and f["text"] and 0 < f["confidence"] <= 1
    starts = [f["start"] for f in streamed.finals]
    assert starts == sorted(starts)


def test_turn_events_frame_the_speech(streamed):
    """Speech starts before its first words are shown, the last final ends the speaker's turn, and the
    utterance ends after the finals, at the end of the last word."""
    kinds = [m["type"] for _, m in streamed.messages]
    assert kinds.index("speech_started") < kinds.index("interim")
    first_start = streamed.of("speech_started")[0]["start"]
    assert first_start == pytest.approx(streamed.finals[0]["start"], abs=0.5)
    assert all(isinstance(f["speech_final"], bool) for f in streamed.finals)
    assert streamed.finals[-1]["speech_final"] is True
    ends = streamed.of("utterance_end")
    assert ends, kinds
    last = {kind: i for i, kind in enumerate(kinds)}
    assert last["utterance_end"] > last["final"]
    assert ends[-1]["last_word_end"] == pytest.approx(streamed.finals[-1]["end"], abs=0.01)
    # Every utterance end follows a speech start: they alternate.
    turns = [k for k in kinds if k in ("speech_started", "utterance_end")]
    assert turns == ["speech_started", "utterance_end"] * (len(turns) // 2)


def test_streaming_accuracy_is_close_to_batch(streamed, live_client):
    batch = upload(live_client, "short_meeting.wav").json()
    wait_job(live_client, batch["job_id"])
    batch_text = live_client.get(f"/v1/recordings/{batch['recording_id']}/transcript").json()["text"]
    live_text = " ".join(f["text"] for f in streamed.finals)
    batch_wer = assert_wer(REFERENCE, batch_text, BATCH_WER, "batch")
    live_wer = assert_wer(REFERENCE, live_text, STREAMING_WER, "live")
    # Each processor's int8 path picks its own words, so "close" is a margin in words (three in 23), not a
    # ratio: on a path where the batch is word-perfect, streaming still misses two words on some.
    assert live_wer <= batch_wer + STREAMING_GAP + 1e-9, (live_text, batch_text)


def test_ended_session_is_a_recording_with_the_same_transcript(streamed, live_client):
    recording = wait_recording_completed(live_client, streamed.session_id)
    assert recording["source"] == "live"
    transcript = live_client.get(f"/v1/recordings/{streamed.session_id}/transcript").json()
    persisted = [(s["index"], s["start"], s["end"], s["text"]) for s in transcript["segments"]]
    received = [(f["index"], f["start"], f["end"], f["text"]) for f in streamed.finals]
    assert persisted == received
    assert transcript["duration_s"] == pytest.approx(9.0, abs=0.2)


def test_statistics_come_from_the_finals(streamed, live_client):
    finals = streamed.finals
    stats = streamed.ended["stats"]
    speech_s = sum(f["end"] - f["start"] for f in finals)
    words = sum(len(f["text"].split()) for f in finals)
    assert stats["final_count"] == len(finals)
    assert stats["mean_confidence"] == pytest.approx(sum(f["confidence"] for f in finals) / len(finals), abs=1e-3)
    assert stats["speech_s"] == pytest.approx(speech_s, abs=1e-2)
    assert stats["words_per_minute"] == pytest.approx(words * 60 / speech_s, abs=0.2)
    session = live_client.get(f"/v1/live/sessions/{streamed.session_id}").json()
    assert session["status"] == "ended" and session["end_reason"] == "stopped"
    assert session["stats"] == stats


def test_ended_session_can_be_retranscribed(streamed, live_client):
    wait_recording_completed(live_client, streamed.session_id)
    again = live_client.post(f"/v1/recordings/{streamed.session_id}/transcriptions", json={})
    assert again.status_code == 202, again.text
    job = wait_job(live_client, again.json()["job_id"])
    assert job["status"] == "completed"
    text = live_client.get(f"/v1/recordings/{streamed.session_id}/transcript", params={"job_id": job["job_id"]}).json()[
        "text"
    ]
    assert_wer(REFERENCE, text, STREAMING_WER, "the saved live audio, transcribed again")


async def test_a_session_is_readable_while_it_runs_and_audio_faster_than_real_time_is_paced_not_dropped(
    stack, live_client
):
    """Also: the gateway's live-session gauge counts it while it runs, and no longer once it ended."""
    pcm, rate = read_pcm(AUDIO / "short_meeting.wav")
    seen_live: list[dict] = []

    async def session() -> list[dict]:
        headers = {"Authorization": f"Bearer {api_key(live_client)}"}
        async with websockets.connect(ws_url(stack), additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": rate, "language": "en"}))
            ready = json.loads(await ws.recv())
            session_id = ready["session_id"]
            token = {"min_seq": ready["event_seq"]}  # read-your-writes: the projection has the session
            # The gateway's gauge counts it (what scales the live workers): held by a worker once claimed.
            await asyncio.to_thread(
                eventually, lambda: live_sessions(stack).get("active", 0) >= 1, "counted as active", 10
            )
            listed = await asyncio.to_thread(live_client.get, "/v1/live/sessions", params=token)
            seen_live.append(next(s for s in listed.json()["items"] if s["session_id"] == session_id))
            recording = await asyncio.to_thread(live_client.get, f"/v1/recordings/{session_id}", params=token)
            seen_live.append(recording.json())
            step = rate // 10 * 2
            for offset in range(0, len(pcm), step):
                await ws.send(pcm[offset : offset + step])  # as fast as the socket takes it
            await ws.send(json.dumps({"type": "stop"}))
            messages = []
            async for raw in ws:
                messages.append(json.loads(raw))
                if messages[-1]["type"] == "ended":
                    break
        return messages

    before = sum(live_sessions(stack).values())
    messages = await session()
    eventually(lambda: sum(live_sessions(stack).values()) <= before, "the ended session no longer counted", 10)
    assert seen_live[0]["status"] == "live" and seen_live[1]["status"] == "live" and seen_live[1]["source"] == "live"
    errors = [m for m in messages if m["type"] == "error"]
    assert [e["code"] for e in errors] == ["sending_too_fast"] and not errors[0]["fatal"]
    audio_s = len(pcm) / 2 / rate
    ended = messages[-1]
    assert ended["duration_s"] == pytest.approx(audio_s, abs=0.05), "every frame was kept"


async def test_scanning_for_sessions_leaves_no_consumers_behind(stack, nc):
    """Each scan of the live_sessions bucket reads its keys through a consumer; left for the server's default
    5 minutes, one per 0.25 s scan, they used to reach the consumer limit and break every scan after that."""

    stream = f"KV_{LIVE_SESSIONS_BUCKET}"
    before = (await nc.jetstream().stream_info(stream)).state.consumer_count
    await asyncio.sleep(4)  # time is what is measured here: 16 scans per live worker
    after = (await nc.jetstream().stream_info(stream)).state.consumer_count
    live_workers = len([p for p in stack.processes if p.name == "live"])
    assert after <= 12 * live_workers, (before, after)  # about 8 in flight per worker: 2 s threshold / 0.25 s scans
