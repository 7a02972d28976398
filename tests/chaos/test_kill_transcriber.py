"""Chaos: kill -9 a transcriber halfway through a job. Another worker resumes it; nothing is lost or doubled."""

import asyncio

from tests.helpers import log_events, read_events, reference, upload, wait_job
from tests.wer import BATCH_WER, assert_wer

ACK_WAIT_S = 5


async def test_a_killed_worker_s_job_resumes_on_another_worker_without_duplicates(own_stack, nats_on, client_on):
    env = {"VOXLEDGER_ACK_WAIT_S": str(ACK_WAIT_S), "VOXLEDGER_HEARTBEAT_S": "1"}
    stack = await asyncio.to_thread(own_stack, scale={"transcriber": 2}, env=env)
    client = await client_on(stack, "chaos")
    accepted = upload(client, "bench_300s.ogg").json()
    recording_id, job_id = accepted["recording_id"], accepted["job_id"]
    events = read_events(client, recording_id, until="TranscriptionStarted", job_id=job_id)
    victim_name = events[-1]["data"]["worker"]
    while True:  # let it get well into the file before pulling the plug
        events += read_events(
            client, recording_id, until="TranscriptionProgressed", job_id=job_id, last_event_id=events[-1]["id"]
        )
        if events[-1]["data"]["progress"] >= 0.3:
            break
    stack.process_of(victim_name).proc.kill()  # SIGKILL: no goodbye

    job = wait_job(client, job_id, timeout_s=240)
    assert job["status"] == "completed", job
    history = await log_events(await nats_on(stack), stack, recording_id)

    starts = [m.body for m in history if m.envelope.type == "TranscriptionStarted"]
    assert [s.attempt for s in starts] == [1, 2]
    assert starts[1].worker != victim_name, "the surviving worker took over"
    segments = [s for m in history if m.envelope.type == "SegmentsTranscribed" for s in m.body.segments]
    assert [s.index for s in segments] == list(range(len(segments))), "no duplicated or missing segment"
    assert [s.start for s in segments] == sorted(s.start for s in segments), "the transcript never goes back in time"
    first_of_attempt_2 = next(
        i for i, m in enumerate(history) if m.envelope.type == "TranscriptionStarted" and m.body.attempt == 2
    )
    resumed = [
        s for m in history[first_of_attempt_2:] if m.envelope.type == "SegmentsTranscribed" for s in m.body.segments
    ]
    assert resumed and resumed[0].index > 0, "the second attempt resumed instead of starting from zero"
    assert job["segment_count"] == len(segments)

    # Apart from the resume boundary, the text matches the audio.
    assert_wer(reference("bench_300s.ogg"), " ".join(s.text for s in segments), BATCH_WER, "the resumed transcript")
