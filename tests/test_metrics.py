"""Prometheus metrics an operator scales and alerts on: jobs by status, queue depth, consumer backlog."""

import re

from tests.helpers import eventually, metrics_text, read_events, upload, wait_job, wait_visible


def metric(text: str, name: str, label: str) -> float:
    found = re.search(rf"^{name}\{{{label}\}} (\S+)$", text, re.MULTILINE)
    assert found, f"{name}{{{label}}} missing"
    return float(found.group(1))


def test_metrics_show_jobs_by_status_and_the_queue_behind_a_busy_worker(stack, client):
    busy = upload(client, "bench_300s.ogg").json()  # occupies the only transcriber
    read_events(client, busy["recording_id"], until="TranscriptionStarted", job_id=busy["job_id"])
    waiting = [upload(client, "short_meeting.ogg").json() for _ in range(2)]
    for job in waiting:  # the job row is projected from the event after the recording's: wait for it too
        wait_visible(client, f"/v1/jobs/{job['job_id']}")

    # The dispatcher holds queued jobs unacked until a worker is free; the running one is on the work queue.
    held = 'consumer="transcription-jobs"'
    eventually(lambda: metric(metrics_text(stack), "voxledger_consumer_ack_pending_messages", held) >= 2, "held")
    text = metrics_text(stack)
    assert metric(text, "voxledger_consumer_ack_pending_messages", 'consumer="transcription-work"') >= 1
    assert metric(text, "voxledger_jobs", 'status="queued"') >= 2
    assert metric(text, "voxledger_jobs", 'status="running"') >= 1

    for job in [busy, *waiting]:
        client.post(f"/v1/jobs/{job['job_id']}/cancel")
    for job in [busy, *waiting]:
        assert wait_job(client, job["job_id"])["status"] == "cancelled"
    assert metric(metrics_text(stack), "voxledger_jobs", 'status="cancelled"') >= 3

    # The worker still takes the cancelled requests off the queue (and skips them): it drains to zero.
    def drained() -> bool:
        return not metric(metrics_text(stack), "voxledger_consumer_ack_pending_messages", held)

    eventually(drained, "the job queue drained", 60)
