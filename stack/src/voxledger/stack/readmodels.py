"""Admin tasks on the read models: zero-downtime replay and the content digest."""

from voxledger.projector.adapters.shadow import digest
from voxledger.projector.rebuild import ReplayReport, replay
from voxledger.runtime import broker
from voxledger.runtime.db import create_pool


async def replay_projection(nats_url: str, database_url: str, projection: str) -> ReplayReport:
    nc = await broker.connect(nats_url, "replay")
    pool = await create_pool(database_url, max_size=2)
    try:
        return await replay(nc.jetstream(), pool, projection)
    finally:
        await pool.close()
        await nc.drain()


async def projection_digest(database_url: str) -> dict[str, tuple[int, str]]:
    pool = await create_pool(database_url, max_size=1)
    try:
        return await digest(pool)
    finally:
        await pool.close()
