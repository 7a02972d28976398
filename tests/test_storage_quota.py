"""Stored audio per tenant is bounded: an upload that would take the tenant past VOXLEDGER_MAX_STORAGE_MB_PER_TENANT
is refused 429 quota_exceeded (field storage_mb) and stores nothing; another tenant is unaffected, and a delete
frees the room. The tenant's events in the log are bounded too (the projector counts them; a delete does not
shrink the log): past its share, new work is refused 429 quota_exceeded (field event_log_mb)."""

from tests.helpers import AUDIO, EVENT_LOG_FULL_TENANT, new_client, upload

FILE = "short_meeting.wav"
FITS = 3  # 3 x 288 kB fit in 1 MiB, a fourth does not
assert FITS * (AUDIO / FILE).stat().st_size < 2**20 < (FITS + 1) * (AUDIO / FILE).stat().st_size


def test_uploads_past_the_tenant_s_storage_quota_are_refused(own_stack):
    stack = own_stack(env={"VOXLEDGER_MAX_STORAGE_MB_PER_TENANT": "1"})
    with new_client(stack, "storage-a") as a, new_client(stack, "storage-b") as b:
        stored = [upload(a, FILE, transcribe="false") for _ in range(FITS)]
        assert [s.status_code for s in stored] == [202] * FITS
        refused = upload(a, FILE, transcribe="false")
        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "quota_exceeded" and refused.json()["field"] == "storage_mb"
        assert len(a.get("/v1/recordings").json()["items"]) == FITS, "the refused upload stored nothing"
        assert upload(b, FILE, transcribe="false").status_code == 202, "another tenant's room is its own"

        deleted = a.delete(f"/v1/recordings/{stored[0].json()['recording_id']}")
        assert deleted.status_code == 202, deleted.text
        token = deleted.headers["X-Consistency-Token"]
        assert len(a.get("/v1/recordings", params={"min_seq": token}).json()["items"]) == FITS - 1
        assert upload(a, FILE, transcribe="false").status_code == 202, "a delete frees its room"


def test_new_work_past_the_tenant_s_share_of_the_event_log_is_refused(stack, client):
    with new_client(stack, EVENT_LOG_FULL_TENANT) as full:
        first = upload(full, FILE, transcribe="false")  # awaited until projected, its events counted
        assert first.status_code == 202, "a tenant under its share (none used yet) is served"
        refused = [
            upload(full, FILE, transcribe="false"),
            full.post(f"/v1/recordings/{first.json()['recording_id']}/transcriptions", json={}),
        ]
        for response in refused:
            assert response.status_code == 429, response.text
            problem = response.json()
            assert (problem["code"], problem["field"]) == ("quota_exceeded", "event_log_mb"), problem
            assert response.headers["content-type"].startswith("application/problem+json")
        assert len(full.get("/v1/recordings").json()["items"]) == 1, "the refused upload stored nothing"
    accepted = upload(client, FILE)
    assert accepted.status_code == 202, "another tenant's share is its own"
