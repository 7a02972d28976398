"""The routes the web app needs: the tenant-wide event stream, the audio with byte ranges, the app and the docs
served offline by the gateway itself."""

import json
import re

import httpx
from httpx_sse import connect_sse

from tests.helpers import AUDIO, _events_within, new_client, upload


def tenant_events(
    client: httpx.Client, until, *, last_event_id: str | None = None, timeout_s: float = 60
) -> list[dict]:
    """GET /v1/events up to and including the first event `until(event)` is true of (the `ready` frame included)."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    seen: list[dict] = []
    with connect_sse(client, "GET", "/v1/events", headers=headers, timeout=httpx.Timeout(30, read=None)) as source:
        assert source.response.status_code == 200, source.response.read()
        for event in _events_within(source, timeout_s, "the awaited tenant event"):
            seen.append(event)
            if until(event):
                return seen
    raise AssertionError(f"the stream ended early: {[e['event'] for e in seen]}")


def test_tenant_stream_carries_only_the_tenant_s_events_and_resumes_without_repeats(stack, client):
    ready = tenant_events(client, lambda e: e["event"] == "ready")[0]
    assert int(ready["id"]) == ready["seq"] > 0  # a fresh stream starts at the log's head, not its beginning
    mine = upload(client, "short_meeting.ogg", transcribe="false").json()["recording_id"]
    with new_client(stack, "webapp-other-tenant") as other:
        theirs = upload(other, "short_meeting.ogg", transcribe="false").json()["recording_id"]
        # The other tenant's stream, from the same point, up to its own upload: nothing of this tenant's in it.
        seen = tenant_events(other, lambda e: e.get("recording_id") == theirs, last_event_id=ready["id"])
        assert {e.get("recording_id") for e in seen[1:]} == {theirs}
    mine_seen = tenant_events(client, lambda e: e.get("recording_id") == mine, last_event_id=ready["id"])
    assert [e["type"] for e in mine_seen[1:]] == ["RecordingUploaded"]
    assert mine_seen[1]["recording_id"] == mine
    # Resuming after that event sees neither it again nor the other tenant's upload; the next upload comes next.
    again = upload(client, "short_meeting.ogg", transcribe="false").json()["recording_id"]
    resumed = tenant_events(client, lambda e: e.get("recording_id") == again, last_event_id=mine_seen[-1]["id"])
    assert [e["recording_id"] for e in resumed[1:]] == [again]
    assert int(resumed[1]["id"]) > int(mine_seen[-1]["id"])


def test_audio_is_served_whole_and_by_byte_range_to_its_tenant_only(stack, client):
    original = (AUDIO / "short_meeting.ogg").read_bytes()
    recording_id = upload(client, "short_meeting.ogg", transcribe="false").json()["recording_id"]
    path = f"/v1/recordings/{recording_id}/audio"

    whole = client.get(path)
    assert whole.status_code == 200 and whole.content == original
    assert whole.headers["accept-ranges"] == "bytes" and whole.headers["content-type"].startswith("audio/")
    part = client.get(path, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == original[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(original)}"
    tail = client.get(path, headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == original[-100:]
    beyond = client.get(path, headers={"Range": f"bytes={len(original)}-"})
    assert beyond.status_code == 416 and beyond.json()["code"] == "range_not_satisfiable"
    with new_client(stack, "webapp-audio-other") as other:
        assert other.get(path).json()["code"] == "recording_not_found"


def test_the_app_and_the_docs_are_served_offline(stack):
    page = httpx.get(f"{stack.http_url}/", timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    docs = httpx.get(f"{stack.http_url}/docs", follow_redirects=True, timeout=30)
    assert docs.status_code == 200
    for html in (page.text, docs.text):
        assets = re.findall(r"""<(?:script|link)[^>]+(?:src|href)=["']([^"']+)["']""", html)
        assert assets and all(a.startswith("/") for a in assets), f"every asset from this server: {assets}"
        for asset in assets:
            assert httpx.get(f"{stack.http_url}{asset}", timeout=30).status_code == 200, asset
    assert json.loads(httpx.get(f"{stack.http_url}/schema/openapi.json", timeout=30).text)["paths"]["/v1/events"]
