"""Read-your-writes tokens on every 202, and list filters with cursors that stay stable under inserts."""

import time
import uuid
from datetime import UTC, datetime

from tests.helpers import new_client, upload, wait_job

TOKEN = "X-Consistency-Token"
STALE = "X-Read-Model-Stale"


def test_a_read_with_the_token_of_a_202_always_shows_that_write(client):
    for _ in range(8):
        accepted = upload(client, "short_meeting.ogg", transcribe="false")
        assert accepted.status_code == 202 and accepted.headers[TOKEN]
        listed = client.get("/v1/recordings", params={"min_seq": accepted.headers[TOKEN], "limit": 1})
        assert STALE not in listed.headers
        assert [r["recording_id"] for r in listed.json()["items"]] == [accepted.json()["recording_id"]]

    rec = accepted.json()["recording_id"]
    requested = client.post(f"/v1/recordings/{rec}/transcriptions", json={"language": "en"})
    assert requested.status_code == 202
    job_id = requested.json()["job_id"]
    jobs = client.get("/v1/jobs", params={"min_seq": requested.headers[TOKEN]}).json()["items"]
    assert job_id in [j["job_id"] for j in jobs], "the list, which never waits by itself, has the new job"
    assert wait_job(client, job_id)["status"] == "completed"
    again = client.post(
        f"/v1/recordings/{rec}/transcriptions", json={"language": "en"}, headers={"Idempotency-Key": "k1"}
    )
    retried = client.post(
        f"/v1/recordings/{rec}/transcriptions", json={"language": "en"}, headers={"Idempotency-Key": "k1"}
    )
    assert retried.headers[TOKEN] == again.headers[TOKEN], "a retried request's token is the first one's"

    unknown = client.get("/v1/recordings", params={"min_seq": "0190f0c0-0000-7000-8000-0000000000ff"})
    assert unknown.status_code == 200 and unknown.headers.get(STALE) == "true", "a token never satisfied says so"
    # No command has that id (every command id is a UUIDv5), nor has any write the sequence past the log's head:
    # no wait can satisfy either, so the answer comes at once, not after VOXLEDGER_CONSISTENCY_WAIT_S (2 s).
    future = client.get("/v1/recordings", params={"min_seq": 10**15})
    assert future.headers.get(STALE) == "true"
    assert unknown.elapsed.total_seconds() < 1.5 and future.elapsed.total_seconds() < 1.5, (
        unknown.elapsed,
        future.elapsed,
    )


def test_another_tenants_token_is_answered_like_a_token_that_names_no_write(stack, client):
    """Otherwise min_seq is an oracle: a tenant could confirm that another tenant's write happened."""
    theirs = upload(client, "short_meeting.ogg", transcribe="false").headers[TOKEN]
    never = str(uuid.uuid5(uuid.NAMESPACE_URL, f"never-{time.time_ns()}"))  # the form of a command id
    with new_client(stack, "consistency-oracle") as other:
        answers = [other.get("/v1/recordings", params={"min_seq": token}) for token in (theirs, never, theirs)]
    assert [(a.status_code, a.headers.get(STALE)) for a in answers] == [(200, "true")] * 3
    assert [a.json()["items"] for a in answers] == [[]] * 3
    elapsed = [a.elapsed.total_seconds() for a in answers]
    assert all(1.8 < e < 3.5 for e in elapsed), f"each waits the full 2 s, whichever token: {elapsed}"
    own = client.get("/v1/recordings", params={"min_seq": theirs, "limit": 1})
    assert STALE not in own.headers and own.elapsed.total_seconds() < 1.5, "the writer's own read is not slowed"


def test_lists_filter_by_status_and_creation_time_and_page_stably(client):
    first = upload(client, "short_meeting.ogg", transcribe="false").json()
    assert client.get(f"/v1/recordings/{first['recording_id']}").status_code == 200
    created = datetime.fromisoformat(client.get(f"/v1/recordings/{first['recording_id']}").json()["created_at"])
    time.sleep(0.05)
    later = [upload(client, "short_meeting.ogg", transcribe="false") for _ in range(4)]
    token = later[-1].headers[TOKEN]
    after = client.get("/v1/recordings", params={"created_after": created.isoformat(), "min_seq": token}).json()[
        "items"
    ]
    assert [r["recording_id"] for r in after] == [r.json()["recording_id"] for r in reversed(later)]
    future = datetime.now(UTC).replace(year=2100).isoformat()
    assert client.get("/v1/recordings", params={"created_after": future}).json()["items"] == []

    transcribed = upload(client, "short_meeting.ogg").json()
    assert wait_job(client, transcribed["job_id"])["status"] == "completed"
    done = client.get("/v1/jobs", params={"status": "completed"}).json()["items"]
    assert [j["job_id"] for j in done] == [transcribed["job_id"]]
    assert client.get("/v1/jobs", params={"status": "failed"}).json()["items"] == []
    assert (
        client.get("/v1/recordings", params={"status": "completed"}).json()["items"][0]["recording_id"]
        == transcribed["recording_id"]
    )

    # Jobs page newest first; jobs created between pages neither shift nor repeat what follows.
    for _ in range(3):
        client.post(f"/v1/recordings/{first['recording_id']}/transcriptions", json={"language": "en"})
    snapshot = [j["job_id"] for j in client.get("/v1/jobs", params={"limit": 100, "min_seq": 1}).json()["items"]]
    seen, cursor = [], None
    while True:
        page = client.get("/v1/jobs", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [j["job_id"] for j in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
        client.post(f"/v1/recordings/{first['recording_id']}/transcriptions", json={"language": "en"})
    assert [j for j in seen if j in snapshot] == snapshot and len(set(seen)) == len(seen)
    bad = client.get("/v1/jobs", params={"created_after": "yesterday"})
    assert bad.status_code == 400
