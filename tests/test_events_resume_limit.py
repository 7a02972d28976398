"""GET /v1/events filters every tenant's events in the gateway, so a resume from far back would replay the whole
log per stream: a Last-Event-ID more than VOXLEDGER_SSE_MAX_RESUME_EVENTS behind the head restarts at the head
with a `ready` that says so, and the client reloads its state from there."""

from tests.helpers import new_client, upload
from tests.test_webapp_api import tenant_events

MAX_RESUME = 5


def test_a_resume_from_too_far_back_starts_at_the_head_and_says_reset(own_stack):
    stack = own_stack(env={"VOXLEDGER_SSE_MAX_RESUME_EVENTS": str(MAX_RESUME)})
    with new_client(stack, "resume-far") as client, new_client(stack, "resume-other") as other:
        start = tenant_events(client, lambda e: e["event"] == "ready")[0]
        for _ in range(MAX_RESUME + 1):  # another tenant's uploads: each a few events, more than MAX_RESUME together
            upload(other, "short_meeting.ogg", transcribe="false")
        head = tenant_events(client, lambda e: e["event"] == "ready")[0]["seq"]
        assert head - start["seq"] > MAX_RESUME

        far = tenant_events(client, lambda e: e["event"] == "ready", last_event_id="1")[0]
        assert far.get("reset") == "resume_too_old" and far["seq"] == int(far["id"]) >= head, far
        mine = upload(client, "short_meeting.ogg", transcribe="false").json()["recording_id"]
        after = tenant_events(client, lambda e: e.get("recording_id") == mine, last_event_id=far["id"])
        assert after[0].get("reset") is None, "a resume within the bound replays as before"
        assert [e["type"] for e in after[1:]] == ["RecordingUploaded"]
