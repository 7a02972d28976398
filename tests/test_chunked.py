"""Long recordings split into chunks that any transcriber takes, stitched back into one job's transcript.

One stack of this module's own (the shared one never chunks: its threshold is the default): a threshold of
60 s and chunks of about 25 s, so a two-minute file makes five chunks, and two transcribers to take them.
Short AckWait and heartbeat, so a killed worker's chunk comes back within seconds. The kill test runs last:
the supervisor restarts the killed transcriber, but nothing after it needs to wait for that.
"""

import contextlib
import io
import wave
from collections import Counter
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from nats.js.errors import KeyNotFoundError, NoKeysError

from tests.helpers import (
    AUDIO,
    eventually_async,
    log_events,
    reference,
    started_stack,
    wait_job,
    wait_logged,
    wait_visible,
)
from tests.test_erasure import everything_stored
from tests.wer import BATCH_WER, assert_wer, words
from voxledger.contracts import streams
from voxledger.contracts.envelope import Message
from voxledger.stack.supervisor import Stack
from voxledger.transcriber.adapters.audio import SAMPLE_RATE, decode

ENV = {
    "VOXLEDGER_CHUNK_THRESHOLD_S": "60",
    "VOXLEDGER_CHUNK_S": "25",
    "VOXLEDGER_ACK_WAIT_S": "5",
    "VOXLEDGER_HEARTBEAT_S": "1",
}
SEAM_S = 2.5  # the words this close to a cut are compared with the text that was said there


@pytest.fixture(scope="module")
def chunk_stack(tmp_path_factory) -> Iterator[Stack]:
    with started_stack(tmp_path_factory.mktemp("chunked"), scale={"transcriber": 2}, env=ENV) as running:
        yield running


@pytest.fixture(scope="module")
def two_minutes() -> tuple[bytes, str]:
    """bench_60s twice over, as a 16 kHz WAV, and the text said in it."""
    samples, _ = decode(AUDIO / "bench_60s.ogg")
    pcm = (np.concatenate([samples, samples]) * 32767).astype("<i2").tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm)
    text = reference("bench_60s.ogg")
    return out.getvalue(), f"{text} {text}"


def post(client: httpx.Client, audio: bytes) -> tuple[str, str]:
    response = client.post(
        "/v1/recordings", files={"file": ("two_minutes.wav", audio)}, data={"word_timestamps": "true"}
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    wait_visible(client, f"/v1/recordings/{accepted['recording_id']}")
    return accepted["recording_id"], accepted["job_id"]


def of_type(history: list[Message], name: str) -> list:
    return [m.body for m in history if m.envelope.type == name]


def seam_mismatch(said: list[str], heard: list[str]) -> int:
    """The fewest words in which `heard` differs from a stretch of `said` just as long: a word doubled
    or dropped at a seam shifts every word after it, one misheard word costs one."""
    n = len(heard)
    return min(sum(a != b for a, b in zip(said[i : i + n], heard, strict=True)) for i in range(len(said) - n + 1))


def assert_stitched(history: list[Message], said: str) -> None:
    """One plan, each chunk recorded once, contiguous ordered segments, every seam whole, WER bounded."""
    (plan,) = of_type(history, "TranscriptionChunked")
    assert len(plan.chunks) >= 3, plan.chunks
    recorded = Counter(c.index for c in of_type(history, "ChunkTranscribed"))
    assert recorded == Counter(range(len(plan.chunks))), f"each chunk recorded exactly once: {recorded}"
    assert len(of_type(history, "TranscriptionCompleted")) == 1
    segments = [s for e in of_type(history, "SegmentsTranscribed") for s in e.segments]
    assert [s.index for s in segments] == list(range(len(segments))), "no duplicated or missing segment"
    assert [s.start for s in segments] == sorted(s.start for s in segments), "the transcript never goes back"
    assert_wer(said, " ".join(s.text for s in segments), BATCH_WER, "the stitched transcript")
    timed = [((w.start + w.end) / 2, w.word) for s in segments for w in s.words or []]
    for chunk in plan.chunks[1:]:
        near = " ".join(word for mid, word in timed if abs(mid - chunk.start_s) < SEAM_S)
        assert len(words(near)) >= 3, f"too few words near the cut at {chunk.start_s} s to judge it: {near!r}"
        assert seam_mismatch(words(said), words(near)) <= 1, f"the seam at {chunk.start_s} s: {near!r}"


async def test_a_long_recording_is_chunked_and_stitched_whole(chunk_stack, two_minutes, nats_on, client_on):
    audio, said = two_minutes
    nc, client = await nats_on(chunk_stack), await client_on(chunk_stack, "chunked")
    recording_id, job_id = post(client, audio)
    job = wait_job(client, job_id, timeout_s=240)
    assert job["status"] == "completed", job
    history = await log_events(nc, chunk_stack, recording_id)
    assert job["segment_count"] == len([s for e in of_type(history, "SegmentsTranscribed") for s in e.segments])
    assert_stitched(history, said)
    # A chunk's words are sealed like the segments: none of them is stored in clear (as text: after a space).
    chunks = [raw for subject, raw in (await everything_stored(nc))["EVENTS"] if subject.endswith(".ChunkTranscribed")]
    heard = {w for e in of_type(history, "ChunkTranscribed") for s in e.segments for w in words(s.text) if len(w) > 6}
    assert chunks and heard and not [w for w in heard if any(f" {w}".encode() in raw.lower() for raw in chunks)]
    progress = [e.progress for e in of_type(history, "TranscriptionProgressed")]
    assert progress == sorted(progress), f"progress went back: {progress}"
    assert len(of_type(history, "TranscriptionChunkQueued")) == len(of_type(history, "TranscriptionChunked")[0].chunks)


async def test_cancel_reaches_every_chunk(chunk_stack, two_minutes, nats_on, client_on):
    audio, _ = two_minutes
    nc, client = await nats_on(chunk_stack), await client_on(chunk_stack, "chunked-cancel")
    recording_id, job_id = post(client, audio)
    await wait_logged(nc, chunk_stack, recording_id, "ChunkTranscribed", job_id=job_id, timeout_s=120)
    assert client.post(f"/v1/jobs/{job_id}/cancel").status_code == 202
    job = wait_job(client, job_id, timeout_s=60)
    assert job["status"] == "cancelled", job
    await eventually_async(lambda: settled(nc), "every queued chunk taken and settled", 60)
    history = await log_events(nc, chunk_stack, recording_id)
    types = [m.envelope.type for m in history]
    asked = types.index("TranscriptionCancelRequested")
    assert "ChunkTranscribed" not in types[asked:], f"a chunk was recorded after the cancel: {types[asked:]}"
    assert types.count("TranscriptionCancelled") == 1 and "TranscriptionCompleted" not in types


async def test_a_worker_killed_mid_chunk_costs_that_chunk_only(chunk_stack, two_minutes, nats_on, client_on):
    audio, said = two_minutes
    nc, client = await nats_on(chunk_stack), await client_on(chunk_stack, "chunked-kill")
    recording_id, job_id = post(client, audio)
    before = await wait_logged(nc, chunk_stack, recording_id, "ChunkTranscribed", job_id=job_id, timeout_s=120)
    done_before = {c.index: c.processing_s for c in of_type(before, "ChunkTranscribed")}
    held = await eventually_async(lambda: chunk_holders(nc, job_id, set(done_before)), "a chunk being transcribed", 30)
    index, victim = next(iter(held.items()))
    chunk_stack.process_of(victim).proc.kill()  # SIGKILL, mid-chunk
    job = wait_job(client, job_id, timeout_s=240)
    assert job["status"] == "completed", job
    history = await log_events(nc, chunk_stack, recording_id)
    assert_stitched(history, said)
    after = {c.index: c.processing_s for c in of_type(history, "ChunkTranscribed")}
    assert {i: after[i] for i in done_before} == done_before, "chunks recorded before the kill are kept as they were"
    assert index in after, f"the killed worker's chunk {index} was taken again and recorded"


async def chunk_holders(nc, job_id: str, recorded: set[int]) -> dict[int, str]:
    """Chunk index -> the worker whose lease holds it, for the job's chunks not recorded yet."""
    kv = await nc.jetstream().key_value(streams.LEASES_BUCKET)
    with contextlib.suppress(NoKeysError):
        keys = [k for k in await kv.keys() if k.startswith(f"chunk.{job_id}.")]
        held = {}
        for key in keys:
            with contextlib.suppress(KeyNotFoundError):
                held[int(key.rsplit(".", 1)[1])] = ((await kv.get(key)).value or b"").decode()
        return {i: worker for i, worker in held.items() if i not in recorded and worker}
    return {}


async def settled(nc) -> bool:
    """Nothing left on the transcription-jobs consumer: no chunk waits, none is in a worker's hands."""
    info = await nc.jetstream().consumer_info(streams.EVENTS.name, streams.TRANSCRIPTION_JOBS.durable)
    return info.num_pending == 0 and info.num_ack_pending == 0
