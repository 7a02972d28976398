"""Chaos: stop PostgreSQL while jobs run, then start it again (same port, same data). Reads answer a clear 503
meanwhile, uploads are still accepted, and the projector catches up afterwards with no gap."""

import time

import httpx

from tests.chaos.ledger import assert_insights_once, assert_ledger_matches_read_model, wait_jobs, wait_visible
from tests.helpers import log_events, new_client, read_events, upload
from voxledger.stack.supervisor import Stack

PROBLEM = "application/problem+json"


def wait_for_event(stack, recording_id: str, event_type: str, timeout_s: float = 120) -> None:
    """Straight from the log, which needs no database."""
    deadline = time.monotonic() + timeout_s
    while event_type not in [m.envelope.type for m in log_events(stack, recording_id)]:
        assert time.monotonic() < deadline, f"no {event_type} in the log after {timeout_s} s"
        time.sleep(0.2)


def test_reads_fail_cleanly_during_a_postgres_outage_and_the_projection_catches_up(tmp_path):
    data = tmp_path / "data"
    env = {"VOXLEDGER_AUTH_CACHE_S": "600"}  # a key seen before the outage keeps working through it
    with Stack(data, log_dir=data / "logs", env=env) as stack, new_client(stack, "pg-restart") as client:
        accepted = [upload(client, "short_meeting.wav").json() for _ in range(3)]
        wait_visible(client, accepted[0]["job_id"])
        read_events(client, accepted[0]["recording_id"], until="TranscriptionStarted", job_id=accepted[0]["job_id"])
        projector = stack.service("projector").proc

        with stack.outage("postgres"):
            read = client.get(f"/v1/jobs/{accepted[0]['job_id']}")
            assert read.status_code == 503 and read.headers["content-type"].startswith(PROBLEM), read.text
            assert read.json()["code"] == "database_unavailable" and "retry-after" in read.headers
            ready = httpx.get(f"{stack.http_url}/readyz", timeout=10)
            assert ready.status_code == 503 and ready.json()["code"] == "database_unavailable"
            # Writes need only the log: an upload is still accepted, durably.
            during = upload(client, "short_meeting.wav", await_visible=False)  # reads are down
            assert during.status_code == 202, during.text
            accepted.append(during.json())
            # Jobs keep running meanwhile: the projector has events to catch up on.
            wait_for_event(stack, accepted[1]["recording_id"], "TranscriptionCompleted")

        deadline = time.monotonic() + 60
        while httpx.get(f"{stack.http_url}/readyz", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "the gateway never became ready again"
            time.sleep(0.2)
        jobs = wait_jobs(client, [a["job_id"] for a in accepted])
        assert projector.poll() is None, "the projector rode out the outage instead of crashing"
        assert_ledger_matches_read_model(stack, accepted, jobs)
        assert_insights_once(stack, accepted)
