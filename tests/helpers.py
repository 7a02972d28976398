"""Test helpers: an API client per tenant, job waiting, SSE reading, word error rate."""

import asyncio
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from httpx_sse import connect_sse

from voxledger.contracts import subjects
from voxledger.contracts.envelope import Message
from voxledger.runtime.broker import connect
from voxledger.runtime.eventstore import EventStore
from voxledger.stack.provision import issue_key

AUDIO = Path(__file__).parent / "fixtures" / "audio"
TERMINAL = {"completed", "failed", "cancelled"}
JOB_END_EVENTS = {"TranscriptionCompleted", "TranscriptionFailed", "TranscriptionCancelled"}


@contextmanager
def new_client(stack, tenant: str) -> Iterator[httpx.Client]:
    """A client with a fresh API key for `tenant`, once the key has been projected and works."""
    api_key = asyncio.run(issue_key(stack.nats_url, tenant, "test"))
    with httpx.Client(base_url=stack.http_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30) as client:
        deadline = time.monotonic() + 10
        while client.get("/v1/recordings").status_code == 401:
            assert time.monotonic() < deadline, "the new API key never became usable"
            time.sleep(0.05)
        yield client


def metrics_text(stack) -> str:
    """A Prometheus scrape, with the metrics token the gateway generated in the stack's data directory."""
    token = (stack.data_dir / "metrics-token").read_text().strip()
    response = httpx.get(f"{stack.http_url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.text


def upload(client: httpx.Client, name: str, *, await_visible: bool = True, **fields: str) -> httpx.Response:
    """Uploads a fixture; after a 202, waits until the recording is readable, as a careful client does."""
    path = AUDIO / name
    with path.open("rb") as f:
        response = client.post("/v1/recordings", files={"file": (path.name, f)}, data=fields)
    if response.status_code == 202 and await_visible:
        wait_visible(client, f"/v1/recordings/{response.json()['recording_id']}")
    return response


def wait_visible(client: httpx.Client, path: str, timeout_s: float = 30) -> None:
    """The read side lags the log a little (more on a loaded machine): poll until the row is there."""
    deadline = time.monotonic() + timeout_s
    while (status := client.get(path).status_code) == 404 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert status == 200, f"{path} still {status} after {timeout_s} s"


def wait_job(client: httpx.Client, job_id: str, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get(f"/v1/jobs/{job_id}")
        assert job.status_code == 200, job.text
        body = job.json()
        if body["status"] in TERMINAL:
            return body
        assert time.monotonic() < deadline, f"job still {body['status']} after {timeout_s} s"
        time.sleep(0.1)


def read_events(client: httpx.Client, recording_id: str, *, until: str | set[str], job_id: str | None = None,
                last_event_id: str | None = None) -> list[dict]:  # fmt: skip
    """SSE events of a recording, up to and including the first `until` event of `job_id`."""
    stop_at = {until} if isinstance(until, str) else until
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    events: list[dict] = []
    with connect_sse(client, "GET", f"/v1/recordings/{recording_id}/events", headers=headers,
                     timeout=httpx.Timeout(30, read=120)) as source:  # fmt: skip
        assert source.response.status_code == 200, source.response.read()
        for sse in source.iter_sse():
            if not sse.data:
                continue  # keep-alive
            event = {"id": sse.id, "event": sse.event, **json.loads(sse.data)}
            events.append(event)
            if sse.event in stop_at and job_id in (None, event["data"].get("job_id")):
                return events
    raise AssertionError(f"the event stream ended before {stop_at}")


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1] / max(len(ref), 1)


def log_events(stack, recording_id: str) -> list[Message]:
    """The recording's events as stored in the log, read straight from JetStream."""

    async def load() -> list[Message]:
        nc = await connect(stack.nats_url, "test")
        try:
            history, _ = await EventStore(nc.jetstream()).load(subjects.RECORDING, recording_id)
            return history
        finally:
            await nc.close()

    return asyncio.run(load())
