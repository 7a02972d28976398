"""Chaos: every worker that takes a job dies. The job ends as failed with a reason; it never hangs."""

import asyncio

from tests.helpers import JOB_END_EVENTS, log_events, read_events, upload, wait_job


async def test_a_job_whose_every_delivery_dies_fails_instead_of_hanging(own_stack, nats_on, client_on):
    env = {"VOXLEDGER_ACK_WAIT_S": "3", "VOXLEDGER_HEARTBEAT_S": "1", "VOXLEDGER_MAX_ATTEMPTS": "1"}
    stack = await asyncio.to_thread(own_stack, scale={"transcriber": 2}, env=env)
    client = await client_on(stack, "lost")
    accepted = upload(client, "bench_300s.ogg").json()
    recording_id, job_id = accepted["recording_id"], accepted["job_id"]
    events: list[dict] = []
    for attempt in (1, 2):  # max_attempts 1 allows one extra delivery for a crashed worker
        # Stop at the job's end as well: a delivery spent without an attempt must fail here, not hang.
        resume = events[-1]["id"] if events else None
        until = {"TranscriptionStarted", *JOB_END_EVENTS}
        events += read_events(client, recording_id, until=until, job_id=job_id, last_event_id=resume)
        assert events[-1]["event"] == "TranscriptionStarted", f"delivery {attempt} made no attempt: {events[-1]}"
        assert events[-1]["data"]["attempt"] == attempt
        worker = stack.process_of(events[-1]["data"]["worker"])
        worker.proc.kill()
        stack.restart("transcriber", worker.index)  # a fresh, idle process, as a supervisor would start

    job = wait_job(client, job_id, timeout_s=120)
    history = [m.envelope.type for m in await log_events(await nats_on(stack), stack, recording_id)]
    assert job["status"] == "failed" and job["error"]["code"] == "worker_lost", job
    assert "TranscriptionCompleted" not in history and history.count("TranscriptionFailed") == 1
