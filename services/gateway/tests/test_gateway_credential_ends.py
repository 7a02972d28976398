"""What a key holds open ends with the key: its revocation (now or at the end of an overlap) or its expiry cancels
the guarded work, whatever that work does with a first cancellation; other keys' work goes on."""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from voxledger.gateway.http.credential_ends import KEY_EXPIRED, KEY_REVOKED, Guard, OpenCredentials


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def forever() -> None:
    await asyncio.Event().wait()


async def guarded(credentials: OpenCredentials, key_id: str, expires_at: datetime | None = None) -> asyncio.Task:
    guard = Guard(credentials)
    guard.hold(key_id, expires_at)
    task = asyncio.create_task(guard.run(forever()))
    await asyncio.sleep(0)
    return task


async def test_a_revocation_ends_the_keys_work_and_only_its():
    credentials = OpenCredentials()
    mine, theirs = await guarded(credentials, "k1"), await guarded(credentials, "k2")
    credentials.end_at("k1", datetime.now(UTC))
    assert await asyncio.wait_for(mine, 1) == KEY_REVOKED
    assert not theirs.done() and len(credentials) == 1
    theirs.cancel()
    with pytest.raises(asyncio.CancelledError):
        await theirs  # the caller's own cancellation is passed on, not taken for a credential's end
    assert len(credentials) == 0


async def test_expiry_and_a_revocation_at_the_end_of_an_overlap_end_it_at_their_time():
    credentials = OpenCredentials()
    expiring, rotated = await guarded(credentials, "k1", soon(0.2)), await guarded(credentials, "k2", soon(60))
    credentials.end_at("k2", soon(0.3))  # the earlier end wins over the expiry
    credentials.end_at("k2", soon(30))  # a later revocation changes nothing
    await asyncio.sleep(0.1)
    assert not expiring.done() and not rotated.done()
    assert await asyncio.wait_for(expiring, 1) == KEY_EXPIRED
    assert await asyncio.wait_for(rotated, 1) == KEY_REVOKED


async def test_work_that_swallows_a_cancellation_is_cancelled_again():
    credentials = OpenCredentials()

    async def stubborn() -> None:
        with contextlib.suppress(asyncio.CancelledError):  # as nats-py's flush does
            await forever()
        await forever()

    guard = Guard(credentials)
    guard.hold("k1", None)
    task = asyncio.create_task(guard.run(stubborn()))
    await asyncio.sleep(0)
    credentials.end_at("k1", datetime.now(UTC))
    assert await asyncio.wait_for(task, 1) == KEY_REVOKED
