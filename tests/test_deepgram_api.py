"""Deepgram's listen API, driven by the official `deepgram-sdk` (unmodified) against the shared real stack.

A live socket is an ordinary live session and a pre-recorded request an ordinary job; texts are bounded by WER
against what the fixture was synthesized from, never compared word for word.
"""

import asyncio
import time

import pytest
from deepgram import AsyncDeepgramClient
from deepgram.core.api_error import ApiError
from deepgram.environment import DeepgramClientEnvironment
from deepgram.errors import BadRequestError
from deepgram.listen.v1.types import (
    ListenV1Metadata,
    ListenV1Results,
    ListenV1SpeechStarted,
    ListenV1UtteranceEnd,
)

from tests.helpers import AUDIO, eventually, new_client, reference
from tests.live_client import FRAME_S, read_pcm
from tests.wer import BATCH_WER, STREAMING_WER, assert_wer

SAID = reference("short_meeting.wav")


@pytest.fixture(scope="module")
def member(stack):
    with new_client(stack, "deepgram-tests", scope="member") as c:
        yield c


@pytest.fixture(scope="module")
def deepgram_key(member) -> str:
    return member.headers["Authorization"].split()[1]


def sdk(stack, key: str) -> AsyncDeepgramClient:
    """The SDK pointed at the stack: its `production` environment is the socket's base URL, `base` the REST one."""
    ws = stack.http_url.replace("http://", "ws://")
    environment = DeepgramClientEnvironment(base=stack.http_url, production=ws, agent=ws, agent_rest=stack.http_url)
    return AsyncDeepgramClient(api_key=key, environment=environment)


LIVE_OPTIONS = {
    "model": "nova-3",
    "language": "en-US",
    "encoding": "linear16",
    "channels": "1",
    "interim_results": "true",
    "punctuate": "true",
    "smart_format": "true",
    "endpointing": "300",
    "utterance_end_ms": "1000",
    "vad_events": "true",
}


async def test_a_streamed_fixture_comes_back_as_deepgram_results(stack, deepgram_key, member):
    pcm, rate = read_pcm(AUDIO / "short_meeting.wav")
    messages: list[object] = []
    async with sdk(stack, deepgram_key).listen.v1.connect(sample_rate=str(rate), **LIVE_OPTIONS) as socket:

        async def receive() -> None:
            async for message in socket:
                messages.append(message)

        receiving = asyncio.create_task(receive())
        step, t0 = int(rate * FRAME_S) * 2, time.monotonic()
        for i, offset in enumerate(range(0, len(pcm), step)):  # at real-time pace, as a microphone sends
            await socket.send_media(pcm[offset : offset + step])
            await asyncio.sleep(max(0.0, t0 + (i + 1) * FRAME_S - time.monotonic()))
        await socket.send_keep_alive()
        await socket.send_close_stream()
        await asyncio.wait_for(receiving, 120)  # the server closes the socket after Metadata

    results = [m for m in messages if isinstance(m, ListenV1Results)]
    interims = [r for r in results if not r.is_final]
    finals = [r for r in results if r.is_final]
    assert interims and finals, messages
    kinds = [type(m).__name__ for m in messages]
    assert isinstance(messages[0], ListenV1SpeechStarted), kinds
    assert isinstance(messages[-1], ListenV1Metadata) and messages[-1].duration == pytest.approx(9.0, abs=0.2)
    assert finals[-1].speech_final is True
    utterance_ends = [m for m in messages if isinstance(m, ListenV1UtteranceEnd)]
    assert utterance_ends and utterance_ends[-1].last_word_end == pytest.approx(
        finals[-1].start + finals[-1].duration, abs=0.01
    )
    for final in finals:
        alternative = final.channel.alternatives[0]
        assert alternative.transcript and 0 < alternative.confidence <= 1 and alternative.words
        assert alternative.words[0].start == pytest.approx(final.start, abs=0.01)
        assert final.metadata.request_id == messages[-1].request_id
    assert_wer(SAID, " ".join(f.channel.alternatives[0].transcript for f in finals), STREAMING_WER, "live")

    # The session is an ordinary live session: a recording with the finals as its transcript.
    def ended() -> dict | None:
        session = member.get(f"/v1/live/sessions/{messages[-1].request_id}").json()
        return session if session.get("status") == "ended" else None

    session = await asyncio.to_thread(eventually, ended, "the session ended")
    assert session["stats"]["final_count"] == len(finals)


async def test_finalize_makes_what_was_heard_final_without_more_audio(stack, deepgram_key):
    """Audio stops mid-sentence: its words wait for more audio, until Finalize makes them final."""
    pcm, rate = read_pcm(AUDIO / "short_meeting.wav")
    finals: list[ListenV1Results] = []
    async with sdk(stack, deepgram_key).listen.v1.connect(sample_rate=str(rate), **LIVE_OPTIONS) as socket:

        async def receive() -> None:
            async for message in socket:
                if isinstance(message, ListenV1Results) and message.is_final:
                    finals.append(message)

        receiving = asyncio.create_task(receive())
        step, t0 = int(rate * FRAME_S) * 2, time.monotonic()
        cut = int(rate * 4.0) * 2  # 4 s: within the second sentence
        for i, offset in enumerate(range(0, cut, step)):
            await socket.send_media(pcm[offset : min(offset + step, cut)])
            await asyncio.sleep(max(0.0, t0 + (i + 1) * FRAME_S - time.monotonic()))
        await asyncio.sleep(3)  # what the last audio gave has come
        before = len(finals)
        await socket.send_finalize()
        deadline = time.monotonic() + 20
        while len(finals) == before and time.monotonic() < deadline:
            await socket.send_keep_alive()
            await asyncio.sleep(0.5)
        assert len(finals) > before, "no final came after Finalize"
        last_end = finals[-1].start + finals[-1].duration
        assert 3.0 <= last_end <= 4.1, last_end
        await socket.send_close_stream()
        await asyncio.wait_for(receiving, 60)


async def test_a_client_that_goes_away_ends_its_session_at_once_and_reconnects(stack, deepgram_key, member):
    """Deepgram's clients cannot resume: a dropped socket's session ends (its audio kept), and the client that
    connects again gets a new session."""
    pcm, rate = read_pcm(AUDIO / "short_meeting.wav")
    for attempt in range(2):
        results: list[ListenV1Results] = []
        async with sdk(stack, deepgram_key).listen.v1.connect(sample_rate=str(rate), **LIVE_OPTIONS) as socket:
            step, t0 = int(rate * FRAME_S) * 2, time.monotonic()
            for i, offset in enumerate(range(0, len(pcm), step)):
                await socket.send_media(pcm[offset : offset + step])
                await asyncio.sleep(max(0.0, t0 + (i + 1) * FRAME_S - time.monotonic()))
                while not results and (message := await _ready_message(socket)) is not None:
                    results.append(message)
                if results:
                    break  # gone without CloseStream, mid-speech
        session_id = results[0].metadata.request_id

        def ended(session_id: str = session_id) -> dict | None:
            session = member.get(f"/v1/live/sessions/{session_id}").json()
            return session if session.get("status") == "ended" else None

        session = await asyncio.to_thread(eventually, ended, f"session {attempt} ended", 15)
        assert session["end_reason"] == "stopped", session


async def _ready_message(socket) -> ListenV1Results | None:
    """A Results message if one is waiting, without waiting for one."""
    try:
        message = await asyncio.wait_for(socket.recv(), 0.01)
    except TimeoutError:
        return None
    return message if isinstance(message, ListenV1Results) else None


async def test_an_unsupported_option_is_refused_in_deepgrams_shape(stack, deepgram_key):
    with pytest.raises(ApiError) as refused:
        options = {**LIVE_OPTIONS, "encoding": "mulaw"}
        async with sdk(stack, deepgram_key).listen.v1.connect(sample_rate="16000", **options):
            pass
    assert refused.value.status_code == 400

    with pytest.raises(ApiError) as anonymous:  # no key: refused at the handshake, as Deepgram does
        async with sdk(stack, "").listen.v1.connect(sample_rate="16000", **LIVE_OPTIONS):
            pass
    assert anonymous.value.status_code == 401

    with pytest.raises(ApiError) as invalid:
        async with sdk(stack, "not-a-key").listen.v1.connect(sample_rate="16000", **LIVE_OPTIONS):
            pass
    assert invalid.value.status_code == 401


async def test_a_prerecorded_file_is_a_job_answered_in_deepgrams_shape(stack, deepgram_key, member):
    audio = (AUDIO / "short_meeting.ogg").read_bytes()
    media = sdk(stack, deepgram_key).listen.v1.media
    response = await media.transcribe_file(
        request=audio, model="nova-3", language="en", punctuate=True, smart_format=True, utterances=True
    )
    alternative = response.results.channels[0].alternatives[0]
    assert_wer(SAID, alternative.transcript, BATCH_WER, "pre-recorded")
    assert 0 < alternative.confidence <= 1
    assert [w.punctuated_word for w in alternative.words] and alternative.words[0].word.islower()
    starts = [w.start for w in alternative.words]
    assert starts == sorted(starts) and alternative.words[-1].end <= response.metadata.duration + 0.5
    assert response.metadata.duration == pytest.approx(9.0, abs=0.3)
    utterances = response.results.utterances
    assert utterances and " ".join(u.transcript for u in utterances) == alternative.transcript
    # An ordinary job of the tenant: its recording is the request's id.
    recording = member.get(f"/v1/recordings/{response.metadata.request_id}").json()
    assert recording["status"] == "completed", recording

    with pytest.raises(BadRequestError) as refused:
        await media.transcribe_url(url="https://example.com/audio.wav", model="nova-3")
    assert refused.value.body["err_code"] == "url_source_unsupported" and refused.value.body["err_msg"]
