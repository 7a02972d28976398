"""Chaos: stop PostgreSQL while jobs run, then start it again (same port, same data). Reads answer a clear 503
meanwhile, uploads are still accepted, and the projector catches up afterwards with no gap."""

import asyncio

import httpx

from tests.chaos.ledger import assert_insights_once, assert_ledger_matches_read_model, wait_jobs, wait_visible
from tests.helpers import eventually, read_events, upload, wait_logged

PROBLEM = "application/problem+json"


async def test_reads_fail_cleanly_during_a_postgres_outage_and_the_projection_catches_up(own_stack, nats_on, client_on):
    env = {"VOXLEDGER_AUTH_CACHE_S": "600"}  # a key seen before the outage keeps working through it
    stack = await asyncio.to_thread(own_stack, env=env)
    nc, client = await nats_on(stack), await client_on(stack, "pg-restart")
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
        # Jobs keep running meanwhile: the projector has events to catch up on. The log needs no database.
        await wait_logged(nc, stack, accepted[1]["recording_id"], "TranscriptionCompleted", timeout_s=120)

    eventually(lambda: httpx.get(f"{stack.http_url}/readyz", timeout=10).status_code == 200, "ready again", 60)
    jobs = wait_jobs(client, [a["job_id"] for a in accepted])
    assert projector.poll() is None, "the projector rode out the outage instead of crashing"
    await assert_ledger_matches_read_model(nc, stack, accepted, jobs)
    await assert_insights_once(nc, stack, accepted)
