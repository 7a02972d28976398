"""Chaos: with jobs queued behind a running one on a single worker, cancel one queued job and the running one.
Both end cancelled, the queued one never starts, neither completes later, and every other job completes."""

from tests.chaos.ledger import assert_clean_job_log, wait_jobs, wait_visible
from tests.helpers import log_events, read_events, upload


async def test_cancelling_a_queued_and_a_running_job_under_load(stack, nc, client_on):
    # The shared stack will do: its one transcriber is this test's alone while it runs, and tenants keep data apart.
    client = await client_on(stack, "cancel-load")
    running = upload(client, "bench_300s.ogg").json()
    wait_visible(client, running["job_id"])
    read_events(client, running["recording_id"], until="SegmentsTranscribed", job_id=running["job_id"])
    queued = [upload(client, "short_meeting.wav").json() for _ in range(4)]
    victim = queued[1]
    wait_visible(client, victim["job_id"])
    assert client.get(f"/v1/jobs/{victim['job_id']}").json()["status"] == "queued"

    assert client.post(f"/v1/jobs/{victim['job_id']}/cancel").status_code == 202
    assert client.post(f"/v1/jobs/{running['job_id']}/cancel").status_code == 202
    ended = read_events(
        client,
        running["recording_id"],
        until={"TranscriptionCancelled", "TranscriptionCompleted"},
        job_id=running["job_id"],
    )
    assert ended[-1]["event"] == "TranscriptionCancelled", "the running job stopped instead of finishing"

    others = [q for q in queued if q is not victim]
    finished = wait_jobs(client, [q["job_id"] for q in others])
    cancelled = wait_jobs(client, [running["job_id"], victim["job_id"]])
    histories = {j["recording_id"]: await log_events(nc, stack, j["recording_id"]) for j in (running, *queued)}

    assert [job["status"] for job in finished] == ["completed"] * len(others)
    for job in finished:
        assert_clean_job_log(histories[job["recording_id"]], job["job_id"], "TranscriptionCompleted")
    assert [job["status"] for job in cancelled] == ["cancelled", "cancelled"]
    assert cancelled[0]["progress"] < 1.0, "the running job was stopped part way"
    for job in (running, victim):  # checked after every other job finished: nothing completed them later
        assert_clean_job_log(histories[job["recording_id"]], job["job_id"], "TranscriptionCancelled")
    victim_types = [m.envelope.type for m in histories[victim["recording_id"]]]
    assert "TranscriptionStarted" not in victim_types, "a job cancelled while queued was never started"
