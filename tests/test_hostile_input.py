"""Hostile input on real processes: every case of issue 10's strict-edges list is refused or survived."""

import asyncio
import contextlib
import json
import re
import socket
import statistics
import threading
import time

import asyncpg
import httpx
import pytest
import websockets

from tests.fuzz.settle import ErrorLogWatch
from tests.helpers import (
    AUDIO,
    BROKEN_MODEL,
    eventually,
    metrics_text,
    new_client,
    read_events,
    started_stack,
    upload,
    wait_job,
    wait_visible,
)
from tests.live_client import ws_url
from voxledger.contracts.readmodels import NOTIFY_CHANNEL as CHANNEL
from voxledger.gateway.http.consistency import ProjectionNotifier

MiB = 2**20
ABSENT = "01900000-0000-7000-8000-000000000000"


def _recording(client: httpx.Client) -> str:
    accepted = upload(client, "short_meeting.ogg", transcribe="false")
    assert accepted.status_code == 202, accepted.text
    return accepted.json()["recording_id"]


def _multipart(filename: bytes, fields: dict[str, bytes] | None = None) -> tuple[bytes, str]:
    """A form built by hand, so that bytes an HTTP client would escape (NUL, bidi) reach the gateway as sent."""
    boundary = "voxledgerhostile"
    parts = [
        b"--"
        + boundary.encode()
        + b'\r\nContent-Disposition: form-data; name="'
        + name.encode()
        + b'"\r\n\r\n'
        + value
        + b"\r\n"
        for name, value in (fields or {}).items()
    ]
    audio = (AUDIO / "short_meeting.ogg").read_bytes()
    parts.append(
        b"--" + boundary.encode() + b'\r\nContent-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: audio/ogg\r\n\r\n" + audio + b"\r\n"
    )
    return b"".join(parts) + b"--" + boundary.encode() + b"--\r\n", f"multipart/form-data; boundary={boundary}"


def test_a_nul_in_any_client_string_is_refused_with_422_naming_the_field(client):
    recording_id = _recording(client)
    nul_model = client.post(f"/v1/recordings/{recording_id}/transcriptions", json={"model": "x\u0000y"})
    assert nul_model.status_code == 422, nul_model.text
    assert nul_model.json()["code"] == "invalid_characters" and nul_model.json()["field"] == "model"
    nul_language = client.post(f"/v1/recordings/{recording_id}/transcriptions", json={"language": "e\u0000"})
    assert nul_language.status_code == 422 and nul_language.json()["field"] == "language"

    body, content_type = _multipart(b"a.ogg", {"model": b"tiny.en\x00", "language": b"en"})
    form = client.post("/v1/recordings", content=body, headers={"Content-Type": content_type})
    assert form.status_code == 422 and form.json()["code"] == "invalid_characters" and form.json()["field"] == "model"

    key = client.post(f"/v1/recordings/{recording_id}/transcriptions", json={}, headers={"Idempotency-Key": "k\x01ey"})
    assert key.status_code == 422 and key.json()["field"] == "Idempotency-Key"
    search = client.get("/v1/search", params={"q": "budget\x00"})
    assert search.status_code == 422 and search.json()["field"] == "q"
    # Nothing of it reached the log: the read models keep up, and a fresh upload is visible at once.
    assert client.get(f"/v1/recordings/{_recording(client)}").status_code == 200


def test_a_filename_is_reduced_to_a_safe_display_name(client):
    body, content_type = _multipart("../../etc/pa\x00ss\u202ewd\x07.ogg".encode())
    accepted = client.post("/v1/recordings", content=body, headers={"Content-Type": content_type})
    assert accepted.status_code == 202, accepted.text
    recording = f"/v1/recordings/{accepted.json()['recording_id']}"
    wait_visible(client, recording)
    assert client.get(recording).json()["filename"] == "passwd.ogg"


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def _read_response(sock: socket.socket) -> str:
    """One whole HTTP response (head and its Content-Length of body) from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data and (chunk := sock.recv(65536)):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
    )
    while len(body) < length and (chunk := sock.recv(65536)):
        body += chunk
    return (head + b"\r\n\r\n" + body).decode(errors="replace")


def test_an_unauthenticated_gigabyte_gets_401_at_once_and_the_gateway_stays_small(stack, capsys):
    """A 1 GiB chunked JSON body without a key: the gateway answers 401 without reading it.

    The client keeps sending after the answer; the gateway drops the connection instead of buffering."""
    pid = next(p.proc.pid for p in stack.processes if p.name == "gateway")
    host, port = stack.http_url.removeprefix("http://").split(":")
    before = _rss_kib(pid)
    peak, sent, done = [before], [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak.append(_rss_kib(pid))

    sock = socket.create_connection((host, int(port)), timeout=30)
    head = f"POST /v1/recordings/{ABSENT}/transcriptions HTTP/1.1\r\nHost: {host}\r\n"
    sock.sendall((head + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode())
    chunk = b"%x\r\n" % MiB + b'{"model": "' + b"x" * (MiB - 11) + b'"}' + b"\r\n"

    def send() -> None:  # generated as it goes: the gigabyte is never held in memory here either
        try:
            while sent[0] < 1024 * MiB:  # all of it, also after the 401: the gateway must not buffer it
                sock.sendall(chunk)
                sent[0] += MiB
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the gateway closed the connection after its answer
        finally:
            done.set()

    threading.Thread(target=sample, daemon=True).start()
    sender = threading.Thread(target=send, daemon=True)
    started = time.monotonic()
    sender.start()
    response = _read_response(sock)
    elapsed = time.monotonic() - started
    sender.join(timeout=120)
    sock.close()
    peak.append(_rss_kib(pid))
    growth_mib = (max(peak) - before) / 1024
    with capsys.disabled():
        print(
            f"\nunauthenticated chunked body: 401 after {elapsed * 1000:.0f} ms, {sent[0] // MiB} MiB sent, "
            f"gateway RSS {before / 1024:.1f} -> peak {max(peak) / 1024:.1f} MiB (+{growth_mib:.1f})"
        )
    assert response.startswith("HTTP/1.1 401"), response[:200]
    assert '"code":"unauthorized"' in response.replace(" ", "")
    assert growth_mib < 20, f"the gateway grew by {growth_mib:.1f} MiB"


def test_min_seq_without_a_key_answers_401_without_waiting(stack, capsys):
    with httpx.Client(base_url=stack.http_url) as anonymous:
        timings = []
        for _ in range(7):
            started = time.perf_counter()
            response = anonymous.get("/v1/recordings", params={"min_seq": "999999999999"})
            timings.append(time.perf_counter() - started)
            assert response.status_code == 401 and response.json()["code"] == "unauthorized"
    with capsys.disabled():
        print(
            f"\nmin_seq without a key: 401 in {min(timings) * 1000:.1f} ms best, "
            f"{statistics.median(timings) * 1000:.1f} ms median, {max(timings) * 1000:.1f} ms worst"
        )
    assert min(timings) < 0.05, "a 401 is answered before any consistency wait"
    assert max(timings) < 1.0, "not one request waited for the projections (that wait is 2 s)"


def test_numbers_ids_and_cursors_are_parsed_strictly(client):
    recording_id = _recording(client)
    superscript = client.get("/v1/recordings?min_seq=%C2%B2")
    assert superscript.status_code == 400 and superscript.json()["code"] == "invalid_min_seq"
    too_long = client.get("/v1/recordings", params={"min_seq": "9" * 40})
    assert too_long.status_code == 400 and too_long.json()["code"] == "invalid_min_seq"
    urn = client.get(f"/v1/recordings/urn:uuid:{ABSENT}")
    assert urn.status_code == 404 and urn.json()["code"] == "recording_not_found"
    braces = client.get(f"/v1/jobs/{{{ABSENT}}}")
    assert braces.status_code == 404 and braces.json()["code"] == "job_not_found"
    events = client.get(f"/v1/recordings/{recording_id}/events", headers={"Last-Event-ID": "²".encode()})
    assert events.status_code == 400 and events.json()["code"] == "invalid_last_event_id"
    for path in ("/v1/recordings", "/v1/jobs", "/v1/live/sessions"):
        cursor = client.get(path, params={"cursor": "²" * 10})
        assert cursor.status_code == 400 and cursor.json()["code"] == "invalid_cursor", path
        limit = client.get(f"{path}?limit=%C2%B2")
        assert limit.status_code == 400 and limit.json()["field"] == "limit", (path, limit.text)
    assert client.get("/v1/search", params={"q": "x", "cursor": "bzrCsg"}).json()["code"] == "invalid_cursor"


async def test_only_served_models_and_their_languages_are_accepted_on_upload_retranscription_and_live(stack, client):
    listed = client.get("/v1/models")
    assert listed.status_code == 200, listed.text
    models = {m["name"]: m for m in listed.json()["items"]}
    assert listed.json()["default"] == "tiny.en" and models["tiny.en"]["default"]
    assert models["tiny.en"]["english_only"] and models["tiny.en"]["languages"] == ["en"]
    assert models[BROKEN_MODEL]["local"] and not models[BROKEN_MODEL]["default"]
    assert "/nonexistent" not in listed.text, "a local path is a server setting and never shown"

    refused = upload(client, "short_meeting.ogg", model="nope")
    assert refused.status_code == 422 and refused.json()["code"] == "unknown_model"
    recording_id = _recording(client)
    again = client.post(f"/v1/recordings/{recording_id}/transcriptions", json={"model": "/tmp/evil"})
    assert again.status_code == 422 and again.json()["code"] == "unknown_model"

    async def live_starts(*starts: dict) -> list[dict]:
        """What each `start` on one socket is answered (a refused start leaves the socket waiting for another)."""
        headers = {"Authorization": client.headers["authorization"]}
        answers = []
        async with websockets.connect(ws_url(stack), additional_headers=headers) as ws:
            for start in starts:
                await ws.send(json.dumps({"type": "start", "sample_rate": 16000, **start}))
                answers.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        return answers

    unknown, german = await live_starts({"model": "nope"}, {"language": "DE"})  # tiny.en: English only
    assert unknown["type"] == "error" and unknown["code"] == "unknown_model", unknown
    assert german["type"] == "error" and german["code"] == "unsupported_language", german


def test_json_bodies_and_forms_are_bounded_while_they_stream(client):
    recording_id = _recording(client)
    big = client.post(f"/v1/recordings/{recording_id}/transcriptions", json={"model": "x" * (100 * 1024)})
    assert big.status_code == 413 and big.json()["code"] == "body_too_large"
    chunked = client.post(
        f"/v1/recordings/{recording_id}/transcriptions",
        content=iter([b'{"model": "', b"x" * (100 * 1024), b'"}']),  # no Content-Length: counted as it streams
        headers={"Content-Type": "application/json"},
    )
    assert chunked.status_code == 413 and chunked.json()["code"] == "body_too_large"
    body, content_type = _multipart(b"a.ogg", {f"f{i}": b"1" for i in range(40)})
    fields = client.post("/v1/recordings", content=body, headers={"Content-Type": content_type})
    assert fields.status_code == 413 and fields.json()["code"] == "too_many_fields"


def test_deeply_nested_json_and_an_overlong_boundary_are_400s_with_a_code(client):
    recording_id = _recording(client)
    for deep in (b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 5_000 + b"1" + b"}" * 5_000):
        nested = client.post(
            f"/v1/recordings/{recording_id}/transcriptions",
            content=deep,
            headers={"Content-Type": "application/json"},
        )
        assert nested.status_code == 400 and nested.json()["code"] == "json_too_deep", nested.text
        settings = client.put("/v1/settings", content=deep, headers={"Content-Type": "application/json"})
        assert settings.status_code == 400 and settings.json()["code"] == "json_too_deep", settings.text
    body, _ = _multipart(b"a.ogg")
    boundary = "b" * 300  # python-multipart refuses a boundary over 256 bytes when the parser is built
    long_boundary = client.post(
        "/v1/recordings",
        content=body.replace(b"voxledgerhostile", boundary.encode()),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert long_boundary.status_code == 400 and long_boundary.json()["code"] == "malformed_multipart", (
        long_boundary.text
    )
    # Ordinary nesting is still read: the bound is far above what any request of this API needs.
    fine = client.post(f"/v1/recordings/{recording_id}/transcriptions", json={"model": "tiny.en"})
    assert fine.status_code == 202, fine.text


def test_a_tenant_never_sees_a_workers_host_or_pid(stack, client):
    accepted = upload(client, "short_meeting.ogg")
    recording_id, job_id = accepted.json()["recording_id"], accepted.json()["job_id"]
    started = read_events(client, recording_id, until="TranscriptionStarted", job_id=job_id)[-1]["data"]["worker"]
    shown = wait_job(client, job_id)["worker"]
    assert shown == started, "the job and its events name the same worker"
    pids = {str(p.proc.pid) for p in stack.processes}
    assert not pids & set(shown.split("-")) and socket.gethostname() not in shown, shown
    assert re.fullmatch(r"transcriber-\d+-[0-9a-f]{8}", shown), "the replica's name and an opaque instance"


def test_metrics_need_the_metrics_token(stack):
    assert httpx.get(f"{stack.http_url}/metrics").status_code == 401
    wrong = httpx.get(f"{stack.http_url}/metrics", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_metrics_token"
    assert "voxledger_jobs" in metrics_text(stack)


async def test_a_waiter_is_woken_by_a_notification_not_by_the_poll(stack):
    async def scenario() -> float:
        notifier = ProjectionNotifier(stack.database_url, poll_s=3600)  # the fallback poll never comes in time
        await notifier.start()
        try:
            while not notifier.version:  # the first poll has read the checkpoints
                await asyncio.sleep(0.01)
            wanted = notifier.projected_seq + 10**9
            waiter = asyncio.create_task(notifier.wait_for_seq(wanted, time.monotonic() + 30))
            await asyncio.sleep(0.1)
            assert not waiter.done()
            conn = await asyncpg.connect(stack.database_url)
            try:
                started = time.monotonic()
                await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, f"read_models:{wanted}")
                assert await asyncio.wait_for(waiter, 5), "the waiter saw its sequence"
                return time.monotonic() - started
            finally:
                await conn.close()
        finally:
            await notifier.stop()

    assert await scenario() < 2


@pytest.fixture(scope="module")
def quota_stack(tmp_path_factory):
    """A small stack with quotas of one or two and no postproc (insight runs stay in flight); its one
    transcriber is kept busy by a long recording in the queue test."""
    env = {
        "VOXLEDGER_MAX_QUEUED_JOBS_PER_TENANT": "2",
        "VOXLEDGER_MAX_SSE_STREAMS_PER_TENANT": "1",
        "VOXLEDGER_MAX_LIVE_SESSIONS_PER_TENANT": "1",
        "VOXLEDGER_MAX_INSIGHT_RUNS_PER_TENANT": "1",
        "VOXLEDGER_LIVE_ADMISSION_TIMEOUT_S": "30",
        "VOXLEDGER_BODY_CHUNK_TIMEOUT_S": "1",
    }
    scale = {"live": 0, "postproc": 0}
    with started_stack(tmp_path_factory.mktemp("quota-stack"), env=env, scale=scale) as running:
        yield running


@pytest.fixture
def quota_client(quota_stack, request):
    with new_client(quota_stack, request.node.name[:40]) as c:
        yield c


def _assert_quota(response: httpx.Response, quota: str) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["code"] == "quota_exceeded" and response.json()["field"] == quota
    assert int(response.headers["Retry-After"]) > 0


def test_queued_jobs_are_limited_per_tenant(quota_client):
    jobs = [upload(quota_client, "bench_300s.ogg").json()["job_id"] for _ in range(2)]  # one runs, one waits
    for job_id in jobs:  # the recording's row can be read a batch before its job's: the quota counts jobs
        wait_visible(quota_client, f"/v1/jobs/{job_id}")
    try:
        _assert_quota(upload(quota_client, "short_meeting.ogg"), "queued_jobs")
        recording = _recording(quota_client)  # storing alone is not a job
        _assert_quota(quota_client.post(f"/v1/recordings/{recording}/transcriptions", json={}), "queued_jobs")
    finally:
        for job_id in jobs:
            quota_client.post(f"/v1/jobs/{job_id}/cancel")


def test_sse_streams_are_limited_per_tenant_and_freed_on_disconnect(quota_client):
    recording = _recording(quota_client)
    path = f"/v1/recordings/{recording}/events"
    with quota_client.stream("GET", path) as first:
        assert first.status_code == 200
        _assert_quota(quota_client.get(path), "sse_streams")
    deadline = time.monotonic() + 10
    while True:  # the server frees the slot when it notices the client went away
        with quota_client.stream("GET", path) as again:
            if again.status_code == 200:
                break
        assert time.monotonic() < deadline, "the closed stream's slot was never freed"
        time.sleep(0.1)


async def test_live_sessions_are_limited_per_tenant(quota_stack, quota_client):
    headers = {"Authorization": quota_client.headers["authorization"]}

    async def scenario() -> dict:
        async with websockets.connect(ws_url(quota_stack), additional_headers=headers) as first:
            await first.send(json.dumps({"type": "start", "sample_rate": 16000}))  # waits for a worker: holds the slot
            async with websockets.connect(ws_url(quota_stack), additional_headers=headers) as second:
                return json.loads(await asyncio.wait_for(second.recv(), 10))

    refused = await scenario()
    assert refused["type"] == "error" and refused["code"] == "quota_exceeded" and refused["fatal"], refused


def test_insight_runs_in_flight_are_limited_per_tenant(quota_client):
    accepted = upload(quota_client, "short_meeting.ogg").json()
    assert wait_job(quota_client, accepted["job_id"])["status"] == "completed"
    path = f"/v1/recordings/{accepted['recording_id']}/insights"
    first = quota_client.post(path, json={"kinds": ["summary"]})
    assert first.status_code == 202, first.text
    deadline = time.monotonic() + 30
    while quota_client.get(path).json()["status"] != "running":  # no postproc here: the run stays pending
        assert time.monotonic() < deadline, "the requested run never showed"
        time.sleep(0.05)
    _assert_quota(quota_client.post(path, json={"kinds": ["analytics"]}), "insight_runs")


def test_a_stalled_request_body_ends_with_408(quota_stack, quota_client):
    host, port = quota_stack.http_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = (
            f"POST /v1/recordings/{ABSENT}/transcriptions HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: {quota_client.headers['authorization']}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"model": ')  # and then nothing
        started = time.monotonic()
        response = _read_response(sock)
        waited = time.monotonic() - started
    assert response.startswith("HTTP/1.1 408"), response[:200]
    assert '"code":"body_timeout"' in response.replace(" ", "")
    assert waited < 10, f"the stalled body held the request for {waited:.1f} s"


async def test_a_live_socket_must_authenticate_soon_and_its_messages_are_checked(stack, client):
    async def anonymous() -> tuple[dict, float]:
        async with websockets.connect(ws_url(stack)) as ws:  # no header, and no auth message
            started = time.monotonic()
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            return message, time.monotonic() - started

    async def nul_language() -> dict:
        headers = {"Authorization": client.headers["authorization"]}
        async with websockets.connect(ws_url(stack), additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": 16000, "language": "e\u0000"}))
            return json.loads(await asyncio.wait_for(ws.recv(), 10))

    message, waited = await anonymous()
    assert message["code"] == "unauthorized" and message["fatal"], message
    assert waited < 10, f"an anonymous socket was held {waited:.1f} s"
    refused = await nul_language()
    assert refused["code"] == "invalid_characters" and not refused["fatal"], refused


def test_an_oversized_request_head_is_refused_without_reaching_the_app(stack):
    host, port = stack.http_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"GET /v1/recordings HTTP/1.1\r\nHost: {host}\r\nX-Pad: {'a' * 64 * 1024}\r\n\r\n".encode())
        response = _read_response(sock)
    assert response.startswith("HTTP/1.1 4"), response[:200]


ODD_VALUES = [
    "",
    "²",
    "-1",
    "1e9",
    "9" * 40,
    "\u202e",
    "%00",
    "null",
    "[]",
    "2025-01-01T00:00:00",
    "0000-00-00",
    "🙂" * 50,
]


def test_odd_query_values_never_cause_a_5xx(client):
    recording_id = _recording(client)
    probes = [
        ("/v1/recordings", ("limit", "cursor", "status", "created_after", "min_seq")),
        ("/v1/jobs", ("limit", "cursor", "status", "created_after")),
        ("/v1/live/sessions", ("limit", "cursor")),
        ("/v1/search", ("q", "limit", "cursor", "mode")),
        (f"/v1/recordings/{recording_id}/transcript", ("format", "job_id", "min_seq")),
        (f"/v1/recordings/{recording_id}/insights", ("job_id",)),
    ]
    for path, names in probes:
        for name in names:
            for value in ODD_VALUES:
                response = client.get(path, params={name: value})
                assert response.status_code < 500, (path, name, value, response.text)
                if response.status_code >= 400:
                    assert response.json()["code"], (path, name, value)


async def test_a_socket_closed_by_the_server_mid_reply_ends_cleanly_and_frees_its_worker(stack, client):
    """An oversized frame right after `start`: the server closes with 1009 while `ready` is being written."""
    watch = ErrorLogWatch(stack)
    headers = {"Authorization": client.headers["authorization"]}

    async def start_then_oversized() -> int | None:
        async with websockets.connect(ws_url(stack), additional_headers=headers, max_size=None) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
            with contextlib.suppress(websockets.ConnectionClosed):
                await ws.send(b"\0" * (2 * MiB))
                while True:
                    await asyncio.wait_for(ws.recv(), 30)
            return ws.close_code

    for _ in range(3):
        assert await start_then_oversized() in (1009, 1006)

    def sessions_ended() -> bool:
        sessions = client.get("/v1/live/sessions").json()["items"]
        return len(sessions) == 3 and all(s["status"] == "ended" for s in sessions)

    eventually(sessions_ended, timeout_s=20, what="sessions whose ready never arrived to end at once")
    assert watch.errors() == []


async def test_a_stop_racing_a_failed_session_gets_one_clean_close(stack, client):
    """The worker fails the session (its model cannot load) while the gateway handles `stop`: both end the socket."""
    watch = ErrorLogWatch(stack)
    headers = {"Authorization": client.headers["authorization"]}

    async def start_and_stop() -> tuple[list[dict], int | None]:
        async with websockets.connect(ws_url(stack), additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": 16000, "model": BROKEN_MODEL}))
            received = [json.loads(await asyncio.wait_for(ws.recv(), 30))]
            await ws.send(json.dumps({"type": "stop"}))
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    received.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
            return received, ws.close_code

    for _ in range(3):
        received, close_code = await start_and_stop()
        assert received[0]["type"] == "ready" and received[-1]["type"] == "ended", received
        assert received[-1]["reason"] == "failed" and close_code == 1011, (received, close_code)
    assert watch.errors() == []
