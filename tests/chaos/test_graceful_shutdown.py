"""SIGTERM a worker mid-job: it hands the job back at once and another worker resumes it, well before AckWait."""

import asyncio

from tests.helpers import log_events, read_events, upload, wait_job


async def test_a_terminated_worker_hands_its_job_back_for_an_immediate_resume(own_stack, nats_on, client_on):
    env = {"VOXLEDGER_ACK_WAIT_S": "60"}  # far longer than the hand-back may take
    stack = await asyncio.to_thread(own_stack, scale={"transcriber": 2}, env=env)
    client = await client_on(stack, "sigterm")
    accepted = upload(client, "bench_300s.ogg").json()
    recording_id, job_id = accepted["recording_id"], accepted["job_id"]
    events = read_events(client, recording_id, until="SegmentsTranscribed", job_id=job_id)
    worker = next(e for e in events if e["event"] == "TranscriptionStarted")["data"]["worker"]
    process = stack.process_of(worker).proc
    process.terminate()
    assert process.wait(timeout=20) == 0, "the worker shut down cleanly"

    job = wait_job(client, job_id, timeout_s=50)  # under AckWait: only a hand-back makes this
    history = await log_events(await nats_on(stack), stack, recording_id)
    assert job["status"] == "completed"
    starts = [m.body for m in history if m.envelope.type == "TranscriptionStarted"]
    assert [s.attempt for s in starts] == [1, 2] and starts[1].worker != worker
    segments = [s for m in history if m.envelope.type == "SegmentsTranscribed" for s in m.body.segments]
    assert [s.index for s in segments] == list(range(len(segments)))
