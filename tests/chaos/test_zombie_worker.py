"""Chaos: SIGSTOP a worker past AckWait, let another take the job over, then SIGCONT it.

The paused worker wakes up believing it still holds the job. Its lease has
expired and its attempt is superseded, so its late writes are refused and the
transcript stays clean.
"""

import asyncio
import os
import signal

from tests.helpers import eventually, log_events, read_events, upload, wait_job

ACK_WAIT_S = 5
REFUSED = ("job.superseded", "job.lease_lost", "job.failure_refused")


async def test_a_paused_worker_that_wakes_up_after_a_takeover_cannot_write(own_stack, nats_on, client_on):
    env = {"VOXLEDGER_ACK_WAIT_S": str(ACK_WAIT_S), "VOXLEDGER_HEARTBEAT_S": "1"}
    stack = await asyncio.to_thread(own_stack, scale={"transcriber": 2}, env=env)
    client = await client_on(stack, "zombie")
    accepted = upload(client, "bench_300s.ogg").json()
    recording_id, job_id = accepted["recording_id"], accepted["job_id"]
    events = read_events(client, recording_id, until="SegmentsTranscribed", job_id=job_id)
    zombie_name = next(e for e in events if e["event"] == "TranscriptionStarted")["data"]["worker"]
    zombie_process = stack.process_of(zombie_name)
    zombie = zombie_process.proc

    os.kill(zombie.pid, signal.SIGSTOP)
    try:
        takeover = read_events(
            client, recording_id, until="TranscriptionStarted", job_id=job_id, last_event_id=events[-1]["id"]
        )
        # let the new holder write a little before the zombie wakes up
        read_events(client, recording_id, until="SegmentsTranscribed", job_id=job_id, last_event_id=takeover[-1]["id"])
    finally:
        os.kill(zombie.pid, signal.SIGCONT)

    zombie_log = stack.log_dir / f"{zombie_process.label}.log"
    # Only its own log tells: the refused writes leave no event.
    eventually(lambda: any(word in zombie_log.read_text() for word in REFUSED), "the woken worker noticed", 60)
    job = wait_job(client, job_id, timeout_s=240)
    assert zombie.poll() is None, "the worker that lost the job keeps serving"
    history = await log_events(await nats_on(stack), stack, recording_id)

    assert job["status"] == "completed", job
    starts = [m for m in history if m.envelope.type == "TranscriptionStarted"]
    assert [m.body.attempt for m in starts] == [1, 2]
    assert starts[0].body.worker == zombie_name and starts[1].body.worker != zombie_name
    takeover_at = history.index(starts[1])
    late = [m.envelope.type for m in history[takeover_at:] if m.envelope.causation_id == starts[0].envelope.event_id]
    assert late == [], f"the superseded attempt wrote after the takeover: {late}"
    segments = [s for m in history if m.envelope.type == "SegmentsTranscribed" for s in m.body.segments]
    assert [s.index for s in segments] == list(range(len(segments))), "no duplicated or missing segment"
    assert [s.start for s in segments] == sorted(s.start for s in segments)
    assert [m.envelope.type for m in history].count("TranscriptionCompleted") == 1
