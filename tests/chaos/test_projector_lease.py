"""Chaos: two projectors, one active by a KV lease; kill -9 the active one and the standby takes over."""

import asyncio
import time

from tests.helpers import eventually_async, upload
from voxledger.contracts.streams import LEASES_BUCKET

LEASE_KEY = "projector.read_models"


async def lease_holder_pid(nc) -> int | None:
    """The pid of the projector holding the lease (`nc`: a connection to its stack as `provision`)."""
    try:
        entry = await (await nc.jetstream().key_value(LEASES_BUCKET)).get(LEASE_KEY)
        return int(entry.value.decode().rsplit("-", 1)[1]) if entry.value else None
    except Exception:  # no entry: nobody holds it right now
        return None


async def new_holder(nc, before: int | None) -> int | None:
    pid = await lease_holder_pid(nc)
    return pid if pid not in (None, before) else None


def visible_at_once(client) -> bool:
    accepted = upload(client, "short_meeting.ogg", transcribe="false")
    listed = client.get("/v1/recordings", params={"min_seq": accepted.headers["X-Consistency-Token"], "limit": 1})
    return (
        "X-Read-Model-Stale" not in listed.headers
        and listed.json()["items"][0]["recording_id"] == accepted.json()["recording_id"]
    )


async def test_the_standby_projector_takes_over_within_10_s_when_the_active_one_dies(own_stack, nats_on, client_on):
    stack = await asyncio.to_thread(own_stack, scale={"projector": 2})
    nc, client = await nats_on(stack), await client_on(stack, "lease")
    projectors = {stack.service("projector", i).proc.pid: stack.service("projector", i) for i in (0, 1)}
    active = await lease_holder_pid(nc)
    assert active in projectors, "one of the two projectors holds the lease"
    assert visible_at_once(client)
    logs = [(stack.log_dir / f"projector-{i}.log").read_text() for i in (0, 1)]
    assert sum(log.count('"projector.active"') for log in logs) == 1, "only one instance ever projected"

    projectors[active].proc.kill()
    killed_at = time.monotonic()
    # The lease key has no event on the log: poll it.
    holder = await eventually_async(lambda: new_holder(nc, active), "a new holder", 10, 0.1)
    took_over_s = time.monotonic() - killed_at
    assert holder in projectors and holder != active
    assert visible_at_once(client), f"the new active projector (after {took_over_s:.1f} s) applies new events"
