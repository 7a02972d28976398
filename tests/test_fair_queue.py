"""Fair queues (issue 16): one tenant's backlog does not starve another, and priority orders a tenant's own jobs.

An own stack with one transcriber of concurrency 1: the shared stack's queue also holds other tests' jobs, and
this test asserts the exact order in which every queued job starts.
"""

from tests.helpers import eventually, metrics_text, new_client, read_events, upload, wait_job, wait_visible
from tests.test_metrics import metric

BACKLOG = 12


def test_a_new_tenants_job_starts_next_despite_a_backlog_and_priority_orders_a_tenants_own(own_stack):
    stack = own_stack()
    with new_client(stack, "tenant-a") as a, new_client(stack, "tenant-b") as b:
        blocker = upload(a, "bench_300s.ogg").json()  # holds the only slot while the queue builds up
        read_events(a, blocker["recording_id"], until="TranscriptionStarted", job_id=blocker["job_id"])
        low = upload(a, "short_meeting.ogg", priority="low").json()
        backlog = [upload(a, "short_meeting.ogg").json() for _ in range(BACKLOG)]
        high = upload(a, "short_meeting.ogg", priority="high").json()
        lone = upload(b, "short_meeting.ogg", priority="low").json()  # priority orders only B's own jobs
        queued = [lone, high, *backlog, low]  # the order the fair rule starts them in
        wait_visible(b, f"/v1/jobs/{lone['job_id']}")  # projected in log order: every job row is there
        # Every queued job is held by the dispatcher (ack-pending on its consumer), none dispatched yet.
        held = 'consumer="transcription-jobs"'
        eventually(lambda: metric(metrics_text(stack), "voxledger_consumer_ack_pending_messages", held) == 15, "held")

        shown = {j["job_id"]: j for c in (a, b) for j in c.get("/v1/queue").json()["items"] if j["status"] == "queued"}
        assert [shown[j["job_id"]]["queue_position"] for j in queued] == list(range(1, len(queued) + 1)), shown
        assert a.get(f"/v1/jobs/{high['job_id']}").json()["priority"] == "high"
        assert b.get(f"/v1/jobs/{lone['job_id']}").json()["queue_position"] == 1

        assert a.post(f"/v1/jobs/{blocker['job_id']}/cancel").status_code == 202  # frees the slot
        assert wait_job(a, blocker["job_id"])["status"] == "cancelled"
        ended = {j["job_id"]: wait_job(b if j is lone else a, j["job_id"], timeout_s=300) for j in queued}

    assert {job["status"] for job in ended.values()} == {"completed"}, "A's backlog all completes too"
    started = sorted(ended, key=lambda job_id: ended[job_id]["started_at"])
    assert started[0] == lone["job_id"], "B's job was the first to start once the running job's slot freed"
    assert started == [j["job_id"] for j in queued], "started in the order of the positions shown while queued"


def test_a_priority_other_than_high_normal_or_low_is_refused_with_its_code(client):
    refused = upload(client, "short_meeting.ogg", await_visible=False, priority="urgent")
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_priority", refused.text
    assert refused.json()["field"] == "priority"
