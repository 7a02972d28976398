"""A retried upload (same Idempotency-Key) must not store its blob again: replacing an object purges the
chunks a worker may be reading at that moment, which once left a job hanging in `running` forever."""

from tests.helpers import AUDIO, wait_job
from voxledger.contracts.streams import AUDIO_BUCKET


async def stored_chunks_id(nc, blob_key: str) -> str:
    store = await nc.jetstream().object_store(AUDIO_BUCKET)
    return (await store.get_info(blob_key)).nuid


async def test_a_retried_upload_leaves_the_stored_blob_alone(nc, client):
    key = {"Idempotency-Key": "store-once"}
    audio = (AUDIO / "short_meeting.ogg").read_bytes()
    first = client.post("/v1/recordings", files={"file": ("a.ogg", audio)}, headers=key)
    blob_key = f"recordings/{first.json()['recording_id']}"
    chunks = await stored_chunks_id(nc, blob_key)
    retried = client.post("/v1/recordings", files={"file": ("a.ogg", audio)}, headers=key)
    assert retried.status_code == 202 and retried.json() == first.json()
    assert await stored_chunks_id(nc, blob_key) == chunks, "the object was not rewritten"
    assert wait_job(client, first.json()["job_id"])["status"] == "completed"
