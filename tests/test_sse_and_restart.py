"""SSE resume after a disconnect, a full stack restart, and transcribers scaled out."""

import pytest

from tests.helpers import JOB_END_EVENTS, new_client, read_events, started_stack, upload, wait_job


def test_sse_reconnect_with_last_event_id_sees_every_event_exactly_once(client):
    accepted = upload(client, "bench_60s.ogg").json()
    recording_id, job_id = accepted["recording_id"], accepted["job_id"]

    before = read_events(client, recording_id, until="TranscriptionStarted", job_id=job_id)
    assert before[-1]["event"] == "TranscriptionStarted"
    # The client is gone while the job runs; it comes back with the last id it saw.
    after = read_events(client, recording_id, until=JOB_END_EVENTS, job_id=job_id, last_event_id=before[-1]["id"])
    assert after[-1]["event"] == "TranscriptionCompleted"

    resumed = [e["id"] for e in before + after]
    full = [e["id"] for e in read_events(client, recording_id, until=JOB_END_EVENTS, job_id=job_id)]
    assert resumed == full, "no gap and no repeat across the reconnect"
    assert len(set(resumed)) == len(resumed)
    assert any(e["event"] == "SegmentsTranscribed" for e in after)


@pytest.fixture
def own_stack_dir(tmp_path):
    return tmp_path / "data"


def test_restarted_stack_still_serves_earlier_recordings_and_transcripts(own_stack_dir):
    with started_stack(own_stack_dir) as first, new_client(first, "restart") as client:
        accepted = upload(client, "short_meeting.ogg").json()
        assert wait_job(client, accepted["job_id"])["status"] == "completed"
        before = client.get(f"/v1/recordings/{accepted['recording_id']}/transcript").json()
        api_key = client.headers["authorization"]
    assert (own_stack_dir / "dev-api-key").exists()

    with started_stack(own_stack_dir) as second, new_client(second, "restart") as client:
        client.headers["authorization"] = api_key  # the old key still works
        after = client.get(f"/v1/recordings/{accepted['recording_id']}/transcript")
        assert after.status_code == 200
        assert after.json() == before
        listed = client.get("/v1/recordings").json()["items"]
        assert [r["recording_id"] for r in listed] == [accepted["recording_id"]]
        again = upload(client, "short_meeting.ogg").json()
        assert wait_job(client, again["job_id"])["status"] == "completed"


def test_two_transcribers_share_the_queue(own_stack):
    stack = own_stack(scale={"transcriber": 2})
    assert len([p for p in stack.processes if p.name == "transcriber"]) == 2
    with new_client(stack, "scaled") as client:
        jobs = [upload(client, "bench_60s.ogg").json() for _ in range(2)]
        finished = [wait_job(client, j["job_id"]) for j in jobs]
    assert all(j["status"] == "completed" for j in finished)
    # A worker takes one job at a time, so while one is busy the other takes the second job.
    assert {stack.process_of(j["worker"]).label for j in finished} == {"transcriber-0", "transcriber-1"}
    assert all(j["segment_count"] > 5 for j in finished)
