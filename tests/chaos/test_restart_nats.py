"""Chaos: restart nats-server (same port, same store) while jobs run. Every service reconnects, every job
completes exactly once, and an upload during the outage is either durable (202) or refused with a 503."""

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from httpx_sse import connect_sse

from tests.chaos.ledger import assert_insights_once, assert_ledger_matches_read_model, wait_jobs, wait_visible
from tests.helpers import read_events, upload

PROBLEM = "application/problem+json"


def follow_until_completed(client: httpx.Client, recording_id: str, connected: threading.Event) -> list[str]:
    """The event types of one live SSE connection, until TranscriptionCompleted; `connected` once it streams."""
    types: list[str] = []
    with connect_sse(
        client, "GET", f"/v1/recordings/{recording_id}/events", timeout=httpx.Timeout(30, read=120)
    ) as source:
        assert source.response.status_code == 200, source.response.read()
        for sse in source.iter_sse():
            connected.set()
            if sse.data:
                types.append(json.loads(sse.data)["type"])
            if sse.event == "TranscriptionCompleted":
                return types
    raise AssertionError("the event stream ended before TranscriptionCompleted")


async def test_jobs_ride_out_a_nats_restart_exactly_once(own_stack, nats_on, client_on):
    stack = await asyncio.to_thread(own_stack)
    client = await client_on(stack, "nats-restart")
    accepted = [upload(client, "short_meeting.wav").json() for _ in range(4)]
    wait_visible(client, accepted[0]["job_id"])
    read_events(client, accepted[0]["recording_id"], until="TranscriptionStarted", job_id=accepted[0]["job_id"])
    with ThreadPoolExecutor(1) as pool:
        # A live event stream opened before the restart must carry on after it.
        read_events(client, accepted[-1]["recording_id"], until="TranscriptionRequested")
        connected = threading.Event()
        live = pool.submit(follow_until_completed, client, accepted[-1]["recording_id"], connected)
        assert connected.wait(30), "the event stream did not open"
        stack.restart_nats()
        accepted += [upload(client, "short_meeting.wav").json() for _ in range(2)]  # the gateway reconnected

        with stack.outage("nats"):
            refused = upload(client, "short_meeting.wav", language="en")
            ready = httpx.get(f"{stack.http_url}/readyz", timeout=10)
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"].startswith(PROBLEM)
        assert refused.json()["code"] == "nats_unavailable" and "retry-after" in refused.headers
        assert ready.status_code == 503 and ready.json()["code"] == "nats_unavailable"

        jobs = wait_jobs(client, [a["job_id"] for a in accepted])
        streamed = live.result(timeout=60)
    assert streamed.count("TranscriptionCompleted") == 1 and streamed.count("RecordingUploaded") == 1
    assert len(client.get("/v1/recordings", params={"limit": 50}).json()["items"]) == len(accepted), (
        "the refused upload left no recording behind"
    )
    nc = await nats_on(stack)  # after the restart and the outage
    await assert_ledger_matches_read_model(nc, stack, accepted, jobs)
    await assert_insights_once(nc, stack, accepted)
    assert [job["attempt"] for job in jobs] == [1] * len(jobs), "workers rode out the restart: no attempt was lost"
