"""Test helpers: an API client per tenant, waiting on events (or polling where no event tells), SSE reading."""

import asyncio
import contextlib
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import nats.errors
from httpx_sse import EventSource, connect_sse
from nats.js import api as js_api
from nats.js.errors import ObjectNotFoundError

from tests.chaos_stack import ChaosStack
from tests.wer import word_error_rate, words  # noqa: F401  (re-exported: older tests and the benches use them)
from voxledger.contracts import subjects
from voxledger.contracts.envelope import Message
from voxledger.contracts.events import KeyScope
from voxledger.contracts.streams import AUDIO_BUCKET
from voxledger.runtime.eventstore import EventStore
from voxledger.runtime.settings import CommonSettings, load_settings
from voxledger.runtime.vault import Vault, open_vault
from voxledger.stack.embedded import free_port
from voxledger.stack.provision import issue_key

AUDIO = Path(__file__).parent / "fixtures" / "audio"
TERMINAL = {"completed", "failed", "cancelled"}
JOB_END_EVENTS = {"TranscriptionCompleted", "TranscriptionFailed", "TranscriptionCancelled"}
# Where nothing can be awaited, a short poll: each API read costs a few milliseconds of a small machine's cores.
POLL_S = 0.05
T = TypeVar("T")


def eventually(check: Callable[[], T], what: str, timeout_s: float = 30, interval_s: float = POLL_S) -> T:
    """`check()`'s first truthy result, polled for state no event announces (a row, a file, a lease holder)."""
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what}: still not after {timeout_s} s"
        time.sleep(interval_s)
    return result


async def eventually_async(
    check: Callable[[], Awaitable[T]], what: str, timeout_s: float = 30, interval_s: float = POLL_S
) -> T:
    """As `eventually`, for a check that is a coroutine (a look at JetStream or PostgreSQL)."""
    deadline = time.monotonic() + timeout_s
    while not (result := await check()):
        assert time.monotonic() < deadline, f"{what}: still not after {timeout_s} s"
        await asyncio.sleep(interval_s)
    return result


def reference(name: str) -> str:
    """The text a speech fixture was synthesized from."""
    return (AUDIO / name).with_suffix(".txt").read_text()


# Every stack also serves a model that cannot load: a job or live session naming it gets past the gateway's
# allow-list and must fail in the worker with its own code (unknown names never get that far).
BROKEN_MODEL = "broken-model"
SERVED_MODELS = f"tiny.en,{BROKEN_MODEL}=/nonexistent/voxledger-model"
# Test receivers listen on loopback, and a test cannot wait for production backoff.
WEBHOOK_TEST_ENV = {
    "VOXLEDGER_WEBHOOK_ALLOW_PRIVATE": "true",
    "VOXLEDGER_WEBHOOK_RETRY_BASE_S": "0.2",
    "VOXLEDGER_WEBHOOK_RETRY_MAX_S": "1",
    "VOXLEDGER_WEBHOOK_BLOCKED_RECHECK_S": "0.1",
}

# Many tests send invalid keys from 127.0.0.1 on purpose (fuzzing, 401 checks): that address is exempt from
# the failed-auth limit; tests/test_api_keys.py checks the limit from another loopback address.
AUTH_TEST_ENV = {"VOXLEDGER_AUTH_LIMIT_EXEMPT": "127.0.0.1/32"}
# One tenant whose share of the event log is 1 KiB: its API key (2 events, ~600 bytes) fits, an upload more does not
# (tests/test_storage_quota.py); every other tenant has the default.
EVENT_LOG_FULL_TENANT = "event-log-full"
QUOTA_TEST_ENV = {"VOXLEDGER_TENANT_EVENT_LOG_MB": f"{EVENT_LOG_FULL_TENANT}=0.001"}


@contextlib.contextmanager
def started_stack(
    data: Path, *, scale: dict[str, int] | None = None, env: dict[str, str] | None = None, nats_cluster: int = 1
) -> Iterator[ChaosStack]:
    """The one way the suite starts a stack: servers and services under `data`, each service's log in
    `data/logs`, stopped (SIGTERM, then SIGKILL) when the block ends; `nats_cluster`: that many nats-servers."""
    with unstarted_stack(data, scale=scale, env=env, nats_cluster=nats_cluster) as stack:
        yield stack


@contextlib.asynccontextmanager
async def running_stack(data: Path, **options) -> AsyncIterator[ChaosStack]:
    """`started_stack` for an async test: the supervisor's start runs an event loop of its own, so it runs on a thread."""
    stack = unstarted_stack(data, **options)
    await asyncio.to_thread(stack.start)
    try:
        yield stack
    finally:
        stack.stop()


def unstarted_stack(
    data: Path, *, scale: dict[str, int] | None = None, env: dict[str, str] | None = None, nats_cluster: int = 1
) -> ChaosStack:
    """The stack `started_stack` starts, for a test that starts it itself (and acts while it starts)."""
    return ChaosStack(data, log_dir=data / "logs", scale=scale, env=stack_env(env), nats_cluster=nats_cluster)


def stack_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """What the suite's stacks set in their services' environment (`env` on top)."""
    return {
        "VOXLEDGER_SERVED_MODELS": SERVED_MODELS,
        **WEBHOOK_TEST_ENV,
        **AUTH_TEST_ENV,
        **QUOTA_TEST_ENV,
        **(env or {}),
    }


@contextlib.contextmanager
def new_client(stack, tenant: str, scope: KeyScope = "admin") -> Iterator[httpx.Client]:
    """A client with a fresh API key for `tenant` (admin: it may manage webhooks), once the key works. For sync
    code (sync tests and fixtures, the benches, Playwright's tests); an async test takes the `client_on` fixture."""
    with api_client(stack, asyncio.run(issue_key(stack.nats_as("keys"), tenant, "test", scope))) as client:
        yield client


@contextlib.contextmanager
def api_client(stack, api_key: str) -> Iterator[httpx.Client]:
    """A client with `api_key`, once the gateway takes it."""
    with httpx.Client(base_url=stack.http_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30) as client:
        eventually(lambda: client.get("/v1/recordings").status_code != 401, "the new API key usable", 10)
        yield client


def metrics_text(stack) -> str:
    """A Prometheus scrape, with the metrics token the gateway generated in the stack's data directory."""
    token = (stack.data_dir / "metrics-token").read_text().strip()
    response = httpx.get(f"{stack.http_url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.text


def cli(stack, *args: str) -> str:
    """`voxledger <args>` against the stack's servers, as an operator runs it; its output."""
    key_file = str(stack.master_key_file)
    # The stack's data directory: the CLI takes each command's own identity from it (keys, or provision).
    env = {**os.environ, "NATS_URL": stack.nats_url, "DATABASE_URL": stack.database_url}
    env["VOXLEDGER_DATA_DIR"] = str(stack.data_dir)
    env.pop("VOXLEDGER_NATS_NKEY_SEED_FILE", None)
    env["VOXLEDGER_MASTER_KEY_FILE"] = key_file  # the operator's host holds the stack's master key
    done = subprocess.run(
        [sys.executable, "-m", "voxledger.stack.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


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
    status = eventually(lambda: (s := client.get(path).status_code) != 404 and s, f"{path} readable", timeout_s)
    assert status == 200, f"{path} answers {status}"


def wait_job(client: httpx.Client, job_id: str, timeout_s: float = 120) -> dict:
    """The job once it has ended: awaits its end event on the recording's event stream, then reads the job
    with that event's sequence as the consistency token, so the answer already reflects the end."""
    started = time.monotonic()
    job = client.get(f"/v1/jobs/{job_id}")
    assert job.status_code == 200, job.text
    body = job.json()
    if body["status"] in TERMINAL:
        return body
    left_s = timeout_s - (time.monotonic() - started)
    ended = read_events(client, body["recording_id"], until=JOB_END_EVENTS, job_id=job_id, timeout_s=left_s)
    params = {"min_seq": ended[-1]["id"]}
    # A projector lagging past the gateway's read-your-writes wait answers stale: then poll for the end.
    return eventually(lambda: _ended(client.get(f"/v1/jobs/{job_id}", params=params)), f"job {job_id} projected ended")


def _ended(response: httpx.Response) -> dict | None:
    assert response.status_code == 200, response.text
    body = response.json()
    return body if body["status"] in TERMINAL else None


def read_events(
    client: httpx.Client,
    recording_id: str,
    *,
    until: str | set[str],
    job_id: str | None = None,
    last_event_id: str | None = None,
    timeout_s: float = 120,
) -> list[dict]:
    """SSE events of a recording, up to and including the first `until` event of `job_id`, within `timeout_s`."""
    stop_at = {until} if isinstance(until, str) else until
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    events: list[dict] = []
    path, no_read_timeout = f"/v1/recordings/{recording_id}/events", httpx.Timeout(30, read=None)
    with connect_sse(client, "GET", path, headers=headers, timeout=no_read_timeout) as source:
        assert source.response.status_code == 200, source.response.read()
        for event in _events_within(source, timeout_s, f"{stop_at} of {recording_id}"):
            events.append(event)
            if event["event"] in stop_at and job_id in (None, event["data"].get("job_id")):
                return events
    raise AssertionError(f"the event stream ended before {stop_at}: {[e['event'] for e in events]}")


def _events_within(source: EventSource, timeout_s: float, what: str) -> Iterator[dict]:
    """The stream's events as they arrive, failing once `timeout_s` has passed. Read in a thread: keep-alives
    would otherwise keep a blocking read alive past any deadline."""
    arrived: queue.Queue = queue.Queue()

    def pump() -> None:
        try:
            for sse in source.iter_sse():
                if sse.data:  # not a keep-alive
                    arrived.put({"id": sse.id, "event": sse.event, **json.loads(sse.data)})
        except Exception as err:  # the stream broke, or was closed below at the deadline
            arrived.put(err)
        arrived.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                item = arrived.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {what} within {timeout_s:.0f} s") from None
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        # Shut the socket down, not just close it: that wakes the pump's blocked read at once, and the
        # gateway sees the client go instead of holding the stream open until its next keep-alive.
        with contextlib.suppress(Exception):
            source.response.extensions["network_stream"].get_extra_info("socket").shutdown(socket.SHUT_RDWR)
        source.response.close()


async def wait_logged(
    nc, stack, recording_id: str, event_type: str, *, job_id: str | None = None, timeout_s: float = 60
) -> list[Message]:
    """The recording's log once it holds an `event_type` (of `job_id`): awaited on JetStream itself (`nc`, a
    connection to `stack` as `provision`), so it needs neither the API nor the database (a test may have stopped
    them, or the recording may be deleted)."""
    js, vault = nc.jetstream(), await stack_vault(nc, stack)
    subject = subjects.event_subject(subjects.RECORDING, recording_id, event_type)
    everything = js_api.ConsumerConfig(deliver_policy=js_api.DeliverPolicy.ALL)
    subscription = await js.subscribe(subject, ordered_consumer=True, config=everything)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            left_s = deadline - time.monotonic()
            assert left_s > 0, f"no {event_type} of {recording_id} in the log within {timeout_s:.0f} s"
            with contextlib.suppress(nats.errors.TimeoutError):
                logged = await vault.decode((await subscription.next_msg(timeout=left_s)).data)
                if job_id in (None, getattr(logged.body, "job_id", None)):
                    break
    finally:
        await subscription.unsubscribe()
    history, _ = await EventStore(js, vault=vault).load(subjects.RECORDING, recording_id)
    return history


async def stack_vault(nc, stack) -> Vault:
    """The stack's data keys, opened with its master key, as its services open them."""
    return await open_vault(nc, load_settings(CommonSettings, stack.service_env("gateway")))


async def log_events(nc, stack, recording_id: str) -> list[Message]:
    """The recording's events as stored in the log, read straight from JetStream (`nc`: a connection to `stack`
    as `provision`)."""
    store = EventStore(nc.jetstream(), vault=await stack_vault(nc, stack))
    history, _ = await store.load(subjects.RECORDING, recording_id)
    return history


async def audio_stored(nc, recording_id: str) -> bool:
    """Whether the object store still holds the recording's audio."""
    try:
        await (await nc.jetstream().object_store(AUDIO_BUCKET)).get_info(f"recordings/{recording_id}")
    except ObjectNotFoundError:
        return False
    return True


async def audio_removed(nc, recording_id: str) -> bool:
    return not await audio_stored(nc, recording_id)


@contextlib.contextmanager
def second_gateway(stack, log_path: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Another gateway process on the shared stack's servers, on a port of its own (a revocation must reach every
    gateway, not only the one that appended it); `env` overrides its settings. Its URL while the block runs."""
    port = free_port()
    env = {
        **stack.service_env("gateway"),
        "VOXLEDGER_HTTP_PORT": str(port),
        "VOXLEDGER_LOG_FORMAT": "json",
        **(env or {}),
    }
    url = f"http://127.0.0.1:{port}"
    with serving([sys.executable, "-m", "voxledger.gateway"], f"{url}/healthz", log_path, env):
        yield url


@contextlib.contextmanager
def serving(command: list[str], health_url: str, log_path: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    """A server process of the test's own, once `health_url` answers 200; stopped (SIGTERM, then SIGKILL) when the
    block ends, pass or fail. Its output goes to `log_path`."""
    with log_path.open("ab") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    try:
        eventually(lambda: answers(health_url), f"{command[0]} serving", 60)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
