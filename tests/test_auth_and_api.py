"""Auth and tenant isolation, problem+json errors, pagination, health and the OpenAPI document."""

import httpx
from httpx_sse import connect_sse

from tests.helpers import AUDIO, log_events, metrics_text, new_client, upload, wait_job


def test_requests_without_a_valid_key_get_401(stack):
    with httpx.Client(base_url=stack.http_url) as anonymous:
        missing = anonymous.get("/v1/recordings")
        assert missing.status_code == 401
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert missing.json()["code"] == "unauthorized"
        assert "Bearer" in missing.headers["www-authenticate"]
        wrong = anonymous.get("/v1/recordings", headers={"Authorization": "Bearer vl_not-a-real-key"})
        assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_api_key"
        upload_attempt = anonymous.post("/v1/recordings", files={"file": ("a.wav", b"RIFF")})
        assert upload_attempt.status_code == 401


def test_a_tenant_cannot_see_another_tenants_data(stack, client):
    accepted = upload(client, "short_meeting.ogg").json()
    recording_id, job_id = accepted["recording_id"], accepted["job_id"]
    assert wait_job(client, job_id)["status"] == "completed"

    with new_client(stack, "intruder") as other:
        for path in (
            f"/v1/recordings/{recording_id}",
            f"/v1/jobs/{job_id}",
            f"/v1/recordings/{recording_id}/transcript",
            f"/v1/recordings/{recording_id}/events",
        ):
            response = other.get(path)
            assert response.status_code == 404, path
            assert response.json()["code"] in ("recording_not_found", "job_not_found")
        with connect_sse(other, "GET", f"/v1/recordings/{recording_id}/events") as source:
            assert source.response.status_code == 404
        retranscribe = other.post(f"/v1/recordings/{recording_id}/transcriptions")
        assert retranscribe.status_code == 404
        assert other.get("/v1/recordings").json()["items"] == []
    assert client.get(f"/v1/recordings/{recording_id}").status_code == 200


def test_listing_pages_newest_first_without_gaps_or_repeats(client):
    created = [upload(client, "short_meeting.ogg", transcribe="false").json()["recording_id"] for _ in range(5)]
    for recording_id in created:  # reading a fresh id waits until it is projected
        assert client.get(f"/v1/recordings/{recording_id}").status_code == 200
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/recordings", params=params).json()
        seen += [item["recording_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # A new upload between pages must neither shift nor repeat what follows.
        upload(client, "short_meeting.ogg", transcribe="false")
    assert seen == created[::-1]
    assert client.get("/v1/recordings", params={"status": "uploaded"}).json()["items"]
    assert client.get("/v1/recordings", params={"status": "failed"}).json()["items"] == []
    bad = client.get("/v1/recordings", params={"cursor": "garbage"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor"


def test_unknown_ids_and_routes_are_problem_json(client):
    assert client.get("/v1/recordings/not-a-uuid").json()["code"] == "recording_not_found"
    missing = client.get("/v1/jobs/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json()["code"] == "job_not_found"
    route = client.get("/v1/nothing-here")
    assert route.status_code == 404 and route.json()["code"] == "not_found"
    assert route.headers["content-type"].startswith("application/problem+json")


def test_health_readiness_metrics_and_openapi(stack):
    with httpx.Client(base_url=stack.http_url) as anonymous:
        assert anonymous.get("/healthz").json() == {"status": "ok"}
        ready = anonymous.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}  # no version for anyone to see
        # Every answer (a 200, a 401 from the auth middleware, an unknown route) forbids MIME sniffing.
        for answer in (ready, anonymous.get("/v1/recordings"), anonymous.get("/nothing-here")):
            assert answer.headers["x-content-type-options"] == "nosniff", answer.request.url
        assert anonymous.get("/metrics").status_code == 401, "metrics need the metrics token"
        assert "voxledger_sse_clients" in metrics_text(stack)
        schema = anonymous.get("/schema/openapi.json").json()
        for path in ("/v1/recordings", "/v1/recordings/{recording_id}/transcript", "/v1/jobs/{job_id}"):
            assert path in schema["paths"], path
        docs = anonymous.get("/docs", follow_redirects=True)
        assert docs.status_code == 200 and "html" in docs.headers["content-type"]


async def test_a_request_traceparent_reaches_the_events_and_the_read_model(stack, client, nc):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    traced = client.post(
        "/v1/recordings",
        files={"file": ("t.ogg", (AUDIO / "short_meeting.ogg").read_bytes())},
        headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
    ).json()
    job = wait_job(client, traced["job_id"])
    assert job["trace_id"] == trace_id, "the projector stored the trace of the request that created the job"
    history = await log_events(nc, stack, traced["recording_id"])
    assert "TranscriptionCompleted" in [m.envelope.type for m in history]
    for message in history:
        assert trace_id in (message.envelope.traceparent or ""), message.envelope.type
