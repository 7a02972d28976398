"""The log as the benches read it: a bench is a script, so each read opens a connection in a loop of its own."""

import asyncio

from tests.helpers import log_events
from voxledger.contracts.envelope import Message
from voxledger.runtime.broker import connect


def logged_events(stack, recording_id: str) -> list[Message]:
    """The recording's events as stored in the log (`tests.helpers.log_events` on a connection of its own)."""

    async def load() -> list[Message]:
        nc = await connect(stack.nats_as("provision"), "bench")
        try:
            return await log_events(nc, stack, recording_id)
        finally:
            await nc.close()

    return asyncio.run(load())
