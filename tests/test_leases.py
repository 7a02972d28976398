"""Leases on the real NATS KV bucket: taking over a lease at the moment its dead holder's key expires."""

import asyncio

from voxledger.runtime.leases import Lease

TRIALS = 20


async def take_over(js, key: str) -> str:
    """Polls without pause (a worker polls every 0.5 s) so that some call lands inside the expiry."""
    assert await Lease.acquire(js, key, "dead-holder", 1.0) is not None
    while True:
        try:
            lease = await Lease.acquire(js, key, "next-holder", 1.0)
        except Exception as err:
            return type(err).__name__
        if lease is not None:
            return "acquired"


async def test_a_lease_expiring_during_an_acquire_is_taken_over_not_raised(nc):
    """A redelivered job whose worker died waits for the dead worker's lease. An acquire whose key expired
    between its create and its read-back used to raise KeyNotFoundError, which crashed the handler and spent
    one of the job's bounded deliveries without an attempt (tests/chaos/test_worker_lost.py then timed out)."""

    js = nc.jetstream()
    assert await asyncio.gather(*(take_over(js, f"test.expiry.{i}") for i in range(TRIALS))) == ["acquired"] * TRIALS
