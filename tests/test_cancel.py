"""Cancel: a queued job never starts, a running job stops, a finished job says 409, a repeat is harmless."""

import time

from tests.helpers import log_events, read_events, upload, wait_job


async def test_a_running_job_stops_and_ends_cancelled(stack, client, nc):
    accepted = upload(client, "bench_300s.ogg").json()
    recording_id, job_id = accepted["recording_id"], accepted["job_id"]
    read_events(client, recording_id, until="SegmentsTranscribed", job_id=job_id)

    asked_at = time.monotonic()
    cancel = client.post(f"/v1/jobs/{job_id}/cancel")
    assert cancel.status_code == 202 and cancel.json()["status"] == "cancelling"
    events = read_events(
        client, recording_id, until={"TranscriptionCancelled", "TranscriptionCompleted"}, job_id=job_id
    )
    stopped_after = time.monotonic() - asked_at
    assert events[-1]["event"] == "TranscriptionCancelled", f"ended with {events[-1]['event']}"
    assert stopped_after < 10, f"took {stopped_after:.1f} s to stop"

    job = wait_job(client, job_id)
    assert job["status"] == "cancelled" and job["progress"] < 1.0
    again = client.post(f"/v1/jobs/{job_id}/cancel")
    assert again.status_code == 202 and again.json()["status"] == "cancelled", "repeating a cancel is harmless"
    types = [m.envelope.type for m in await log_events(nc, stack, recording_id)]
    assert "TranscriptionCompleted" not in types and types.count("TranscriptionCancelled") == 1


async def test_a_cancelled_queued_job_is_never_started(stack, client, nc):
    busy = upload(client, "bench_300s.ogg").json()  # occupies the only transcriber
    read_events(client, busy["recording_id"], until="TranscriptionStarted", job_id=busy["job_id"])
    queued = upload(client, "short_meeting.ogg").json()
    assert client.get(f"/v1/jobs/{queued['job_id']}").json()["status"] == "queued"
    queue = {job["job_id"]: job for job in client.get("/v1/queue").json()["items"]}
    assert queue[busy["job_id"]]["status"] == "running" and queue[busy["job_id"]]["queue_position"] is None
    assert queue[queued["job_id"]]["queue_position"] == 1, "next in line behind the running job"

    assert client.post(f"/v1/jobs/{queued['job_id']}/cancel").status_code == 202
    assert wait_job(client, queued["job_id"])["status"] == "cancelled"
    assert client.post(f"/v1/jobs/{busy['job_id']}/cancel").status_code == 202
    assert wait_job(client, busy["job_id"])["status"] == "cancelled"

    # The worker is free again and has seen the cancelled job's request: it never started it.
    after = upload(client, "short_meeting.ogg").json()
    assert wait_job(client, after["job_id"])["status"] == "completed"
    types = [m.envelope.type for m in await log_events(nc, stack, queued["recording_id"])]
    assert "TranscriptionStarted" not in types and "TranscriptionCancelled" in types


def test_cancelling_a_finished_job_is_a_conflict(client):
    accepted = upload(client, "short_meeting.ogg").json()
    assert wait_job(client, accepted["job_id"])["status"] == "completed"
    refused = client.post(f"/v1/jobs/{accepted['job_id']}/cancel")
    assert refused.status_code == 409 and refused.json()["code"] == "job_finished"
    assert client.post("/v1/jobs/00000000-0000-4000-8000-000000000000/cancel").status_code == 404
