"""Zero-downtime replay: rebuild a projection from sequence 1 into shadow tables, then swap atomically.

The live projector keeps applying new events to the live tables meanwhile. Once
the shadow has reached the stream head, one transaction locks both checkpoints
(pausing the live projector), applies the few events the shadow still lacks,
and renames the shadow tables into place.
"""

import asyncio
import time

import asyncpg
import msgspec
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from voxledger.contracts import streams
from voxledger.contracts.readmodels import PROJECTION, QUARANTINE_TABLE, SHADOW_SUFFIX
from voxledger.projector.adapters import shadow
from voxledger.projector.adapters.postgres import Layout, apply_batch, apply_in_transaction
from voxledger.projector.follow import contiguous, project_raw
from voxledger.runtime import feeds
from voxledger.runtime.vault import Vault

log = structlog.get_logger(__name__)
PROJECTIONS = (PROJECTION,)


class ReplayReport(msgspec.Struct):
    projection: str
    events: int
    last_seq: int
    skipped: int
    quarantined: int  # events set aside as poison, now in the live quarantine table
    seconds: float


class EventFeed:
    """The stream from a sequence on, through an ordered consumer, taken in batches."""

    def __init__(self, js: JetStreamContext, batch_max: int):
        self._js = js
        self._batch_max = batch_max
        self._queue: asyncio.Queue[Msg] = asyncio.Queue(maxsize=batch_max * 2)
        self._sub: JetStreamContext.PushSubscription | None = None
        self._held: list[Msg] = []  # taken from the queue but past the last `until_seq`
        self._expected = 1

    async def start(self, from_seq: int) -> None:
        self._expected = from_seq

        async def on_message(msg: Msg) -> None:
            await self._queue.put(msg)

        # Room for a backlog well beyond the queue: a subscription over its limit drops messages.
        self._sub = await feeds.follow(
            self._js, streams.EVENTS.subjects[0], on_message, start_seq=from_seq, backlog=self._batch_max * 50
        )

    async def take(self, until_seq: int) -> list[Msg]:
        """At least one message (waiting for it), at most batch_max, none past until_seq."""
        batch, self._held = self._held, []
        if not batch:
            batch.append(await self._queue.get())
        while len(batch) < self._batch_max and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        self._held = [m for m in batch if m.metadata.sequence.stream > until_seq]
        taken = [m for m in batch if m.metadata.sequence.stream <= until_seq]
        if taken and not contiguous(taken, self._expected):
            raise RuntimeError(
                "events went missing on the way (slow consumer); nothing was swapped, run the replay again"
            )
        self._expected += len(taken)
        return taken

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()


async def stream_head(js: JetStreamContext) -> int:
    return (await js.stream_info(streams.EVENTS.name)).state.last_seq


async def replay(
    js: JetStreamContext, pool: asyncpg.Pool, vault: Vault, projection: str = PROJECTION, batch_max: int = 20_000
) -> ReplayReport:
    if projection not in PROJECTIONS:
        raise ValueError(f"unknown projection {projection!r}; known: {', '.join(PROJECTIONS)}")
    started = time.monotonic()
    live = Layout()
    rebuilt = Layout(checkpoint=projection + SHADOW_SUFFIX, suffix=SHADOW_SUFFIX, projection=projection)
    await shadow.create_shadow(pool)
    await pool.execute("DELETE FROM projection_checkpoints WHERE name = $1", rebuilt.checkpoint)
    feed = EventFeed(js, batch_max)
    await feed.start(1)
    try:
        applied, skipped = await _catch_up(feed, vault, pool, rebuilt, await stream_head(js))
        log.info(
            "replay.caught_up", projection=projection, last_seq=applied, seconds=round(time.monotonic() - started, 1)
        )
        await shadow.index_shadow(pool)
        applied, late_skipped = await _swap(feed, vault, pool, rebuilt, live, applied)
    finally:
        await feed.stop()
    quarantined = await pool.fetchval(f"SELECT count(*) FROM {QUARANTINE_TABLE} WHERE projection = $1", projection)
    report = ReplayReport(projection, applied, applied, skipped + late_skipped, quarantined, time.monotonic() - started)
    log.info("replay.swapped", **msgspec.structs.asdict(report))
    return report


async def _catch_up(feed: EventFeed, vault: Vault, pool: asyncpg.Pool, layout: Layout, head: int) -> tuple[int, int]:
    applied, skipped = 0, 0
    while applied < head:
        projected = await project_raw(await feed.take(head), vault)
        skipped += projected.skipped
        applied = await apply_batch(pool, layout, projected.items)
    return applied, skipped


async def _swap(
    feed: EventFeed, vault: Vault, pool: asyncpg.Pool, rebuilt: Layout, live: Layout, applied: int
) -> tuple[int, int]:
    """Holds both checkpoints, brings the shadow to the live checkpoint, swaps; all in one transaction."""
    skipped = 0
    async with pool.acquire() as conn, conn.transaction():
        _, live_seq = await shadow.lock_both(conn, rebuilt, live)
        while applied < live_seq:
            projected = await project_raw(await feed.take(live_seq), vault)
            skipped += projected.skipped
            applied = await apply_in_transaction(conn, rebuilt, projected.items)
        await shadow.swap(conn, rebuilt, live)
    return applied, skipped
