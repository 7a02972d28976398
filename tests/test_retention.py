"""Retention: a tenant's setting (an event) makes old recordings be deleted, as delete commands through the log,
and erased from every file of the data directory as a client's delete erases them (tests/test_erasure.py).

The scheduler runs in one gateway at a time, under a lease. Its sweep is also run here, in the test process,
with a "day" of one second (a test setting): the shared stack keeps real days, since other tests (the API
fuzzer among them) may set a retention for their own tenants.
"""

import msgspec

from tests.disk import row_files_holding, stored_anywhere, stored_key_and_audio, unique_wav
from tests.helpers import AUDIO, eventually, eventually_async, stack_vault, upload, wait_logged, wait_visible
from voxledger.contracts.ids import new_id
from voxledger.contracts.streams import LEASES_BUCKET
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.retention import LEASE_KEY, RetentionScheduler
from voxledger.gateway.settings import GatewaySettings
from voxledger.runtime.db import create_pool
from voxledger.runtime.settings import load_settings

TENANT = "retention-test"


async def sweep_with_one_second_days(nc, stack, tenant: str) -> tuple[int, str]:
    """One sweep for `tenant`, and who holds the stack's scheduler lease."""
    settings = msgspec.structs.replace(
        load_settings(GatewaySettings, stack.service_env("gateway")), retention_day_s=1.0
    )
    pool = await create_pool(stack.database_url, max_size=1)
    try:
        bus = Bus(nc.jetstream(), await stack_vault(nc, stack))
        sent = await RetentionScheduler(settings, bus, ReadModels(pool)).sweep(tenants={tenant})
        holder = (await (await nc.jetstream().key_value(LEASES_BUCKET)).get(LEASE_KEY)).value or b""
        return sent, holder.decode()
    finally:
        await pool.close()


async def test_recordings_older_than_the_tenants_retention_are_erased_through_the_log(stack, nc, client_on):
    await _retention_journey(nc, stack, client_on, TENANT)


async def _retention_journey(nc, stack, client_on, tenant: str) -> None:
    client = await client_on(stack, tenant)
    assert client.get("/v1/settings").json() == {"retention_days": None}
    member = await client_on(stack, tenant, "member")
    refused = member.put("/v1/settings", json={"retention_days": 1})
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert client.put("/v1/settings", json={"retention_days": 0}).status_code in (400, 422)
    token = f"retained{new_id().replace('-', '')[-12:]}"  # in its filename only
    with_token = {"file": (f"{token}.wav", unique_wav(AUDIO / "short_meeting.ogg"))}
    old = client.post("/v1/recordings", files=with_token, data={"transcribe": "false"}).json()["recording_id"]
    wait_visible(client, f"/v1/recordings/{old}")
    key, audio = await stored_key_and_audio(nc, old)

    changed = client.put("/v1/settings", json={"retention_days": 1})
    assert changed.status_code == 202 and changed.json() == {"retention_days": 1}
    eventually(lambda: client.get("/v1/settings").json() == {"retention_days": 1}, "the setting in the log")

    async def a_delete_due() -> tuple[int, str] | None:
        done = await sweep_with_one_second_days(nc, stack, tenant)
        return done if done[0] else None

    sent, holder = await eventually_async(a_delete_due, "a delete due")
    assert sent == 1 and holder.startswith("gateway-retention"), "one gateway runs the scheduler, under a lease"

    history = await wait_logged(nc, stack, old, "RecordingDeleted", timeout_s=30)
    assert all(m.erased for m in history if m.envelope.type == "RecordingUploaded"), "erased as DELETE erases"
    eventually(lambda: client.get(f"/v1/recordings/{old}").status_code == 404, "the recording gone")
    # Erased from the disk as a DELETE erases it (an upload after it visible: the delete's erasure is done).
    assert upload(client, "short_meeting.ogg", transcribe="false").status_code == 202
    found = await stored_anywhere(stack, {"key": key, "audio": audio, "filename": token.encode()})
    assert not found, f"still on disk: {found}"
    assert not await row_files_holding(stack, old)
    assert client.put("/v1/settings", json={"retention_days": None}).status_code == 202
    eventually(lambda: client.get("/v1/settings").json() == {"retention_days": None}, "retention off again")
