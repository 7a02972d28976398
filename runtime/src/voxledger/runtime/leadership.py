"""Active/standby: of the instances that run the same singleton work, the one holding its lease does it.

The others stand by, trying for the lease every poll; one takes over once the active one's lease expires
(it died) or is released (it stopped). The work is told to halt, by one event, when the lease is lost or
the process is stopping, and it halts writing on the lease's behalf then.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nats.js import JetStreamContext

from voxledger.runtime.leases import Lease
from voxledger.runtime.lifecycle import sleep_unless
from voxledger.runtime.logging import get_logger

log = get_logger(__name__)

Work = Callable[[asyncio.Event], Awaitable[None]]


@dataclass(frozen=True)
class Leadership:
    """Who tries for which lease: `name` also names the log events (`<name>.active`, `.standby`, `.released`)."""

    name: str
    key: str
    holder: str
    ttl_s: float
    poll_s: float


async def run_as_leader(
    js: JetStreamContext,
    leadership: Leadership,
    work: Work,
    stop: asyncio.Event,
    on_error: Callable[[], None] | None = None,
) -> None:
    """Until `stop`: takes the lease and runs `work(halt)` while it is held, else stands by. A lease lost
    ends the tenure (the work returns on `halt`) and the loop tries again; at `stop` the lease is released
    for a standby at once. An error escapes, unless `on_error` is given: it is called (inside the except
    block, to log it) and the loop tries again after a poll."""
    while not stop.is_set():
        try:
            if lease := await Lease.acquire(js, leadership.key, leadership.holder, leadership.ttl_s):
                await _tenure(leadership, lease, work, stop)
                continue
        except Exception:
            if on_error is None:
                raise
            on_error()
        await sleep_unless(stop, leadership.poll_s)


async def _tenure(leadership: Leadership, lease: Lease, work: Work, stop: asyncio.Event) -> None:
    log.info(f"{leadership.name}.active", holder=lease.holder)
    async with lease.held() as halt:
        relay = asyncio.create_task(_relay(stop, halt))  # a stop halts the work like a lost lease
        try:
            await work(halt)
        finally:
            relay.cancel()
    if stop.is_set():
        await lease.release()
    log.info(f"{leadership.name}.standby" if not stop.is_set() else f"{leadership.name}.released", holder=lease.holder)


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()
