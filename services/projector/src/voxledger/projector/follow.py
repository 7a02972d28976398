"""The projector loop: read events after the checkpoint, project them, apply each batch in one transaction.

Batches adapt to load: whatever has arrived since the last commit goes into the
next one (at most batch_max), so a lone event is visible at once and a burst
shares a commit.
"""

import asyncio
from typing import Any

import asyncpg
import msgspec
import structlog
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext

from voxledger.contracts import streams
from voxledger.projector.adapters.postgres import (
    PROJECTION,
    Layout,
    apply_batch,
    checkpoint,
    erase_deleted_rows,
    refresh_statistics,
)
from voxledger.projector.domain.intake import Item, counted, needs_key, project_message
from voxledger.runtime import feeds
from voxledger.runtime.db import DATABASE_UNAVAILABLE_ERRORS
from voxledger.runtime.lifecycle import sleep_unless
from voxledger.runtime.vault import Vault

log = structlog.get_logger(__name__)

RETRY_MAX_S = 5.0
# After catching up on this many events, refresh the planner's statistics at once: autovacuum would
# only get to it within its naptime, and until then search and list queries plan on stale counts.
ANALYZE_AFTER_EVENTS = 50_000


class Projected(msgspec.Struct):
    items: list[Item]

    @property
    def last_seq(self) -> int:
        return self.items[-1].seq

    @property
    def skipped(self) -> int:
        return sum(1 for i in self.items if i.skipped is not None)

    @property
    def deletes(self) -> bool:
        return any(i.event_type == "RecordingDeleted" and i.skipped is None for i in self.items)


async def project_raw(messages: list[Msg], vault: Vault) -> Projected:
    """Never raises for an event: unknown types and newer versions are skipped (logged, counted); anything
    that does not decode or project becomes an item the apply quarantines. The batch's data keys are looked
    up first (a broker outage raises here, before anything is applied)."""
    ciphers = await vault.ciphers(rid for m in messages if (rid := needs_key(m.subject)))
    items = [
        counted(project_message(m.metadata.sequence.stream, m.subject, m.data, ciphers.get), len(m.data))
        for m in messages
    ]
    for item in items:
        if item.skipped is not None:
            log.warning("event.skipped", event_type=item.event_type, seq=item.seq, reason=item.skipped)
    return Projected(items)


def contiguous(batch: list[Msg], expected: int) -> bool:
    """The stream numbers every event; a gap means the client dropped messages (a slow consumer)."""
    first, last = batch[0].metadata.sequence.stream, batch[-1].metadata.sequence.stream
    return first == expected and last - first == len(batch) - 1


async def apply_until_committed(
    pool: asyncpg.Pool, layout: Layout, projected: Projected, lag: int, stop: asyncio.Event
) -> int | None:
    """The new checkpoint. A database outage holds the batch and retries it with backoff, so no event
    is skipped; None if stopped meanwhile, leaving the batch to the next run."""
    delay = 0.2
    while True:
        try:
            # A poison event is split out and quarantined inside; what gets here is transient.
            return await apply_batch(pool, layout, projected.items, lag=lag)
        except DATABASE_UNAVAILABLE_ERRORS as err:
            log.warning("projector.database_unavailable", error=repr(err), retry_in_s=delay)
        except Exception:
            # asyncpg has more ways to fail when the server goes away mid-batch; whatever it was, the
            # transaction rolled back and the checkpoint stayed: retry the same batch, loudly.
            log.exception("projector.batch_failed", retry_in_s=delay)
        await sleep_unless(stop, delay)
        if stop.is_set():
            return None
        delay = min(delay * 2, RETRY_MAX_S)


async def _commit(
    pool: asyncpg.Pool, layout: Layout, projected: Projected, lag: int, stop: asyncio.Event, *, analyze: bool
) -> int | None:
    committed = await apply_until_committed(pool, layout, projected, lag, stop)
    if committed is not None and projected.deletes:
        await _erase(pool, layout)
    if committed is not None and analyze:
        try:
            await refresh_statistics(pool, layout)
        except Exception as err:  # only the query plans suffer; autovacuum will catch up
            log.warning("projector.analyze_failed", error=str(err))
    return committed


async def _erase(pool: asyncpg.Pool, layout: Layout) -> None:
    """After a batch with deletes: their rows erased from the files; a failure leaves them until the next."""
    try:
        await erase_deleted_rows(pool, layout)
    except Exception:
        log.exception("projector.erase_failed", note="deleted rows stay in the database files until the next delete")


async def run_projection(
    js: JetStreamContext, pool: asyncpg.Pool, batch_max: int, stop: asyncio.Event, vault: Vault
) -> None:
    """Follows the stream from the checkpoint until `stop`; after a gap, follows again from the checkpoint."""
    while not await _follow(js, pool, batch_max, stop, vault):
        log.warning("projector.gap_resubscribing", projection=PROJECTION)


async def _follow(js: JetStreamContext, pool: asyncpg.Pool, batch_max: int, stop: asyncio.Event, vault: Vault) -> bool:
    # Bounded, so a long backlog pushes back on the consumer's flow control instead of filling memory.
    queue: asyncio.Queue[Msg] = asyncio.Queue(maxsize=batch_max * 4)
    layout = Layout()
    start = await checkpoint(pool, PROJECTION)
    sub = await _subscribe(js, queue, start + 1, batch_max)
    log.info("projector.started", projection=PROJECTION, from_seq=start + 1)
    applied, expected = start, start + 1
    since_analyze = 0
    writing: asyncio.Task[int | None] | None = None
    stopping = asyncio.create_task(stop.wait())
    try:
        while (batch := await _next_batch(queue, stopping, batch_max)) is not None:
            if not contiguous(batch, expected):
                return False
            expected += len(batch)
            # Decode and project this batch while the previous one is still being written.
            projected = await project_raw(batch, vault)
            lag = batch[-1].metadata.num_pending + queue.qsize()  # events behind the stream head
            if writing is not None:
                committed = await writing  # batches commit strictly in order
                if committed is None:
                    break  # stopped during a database outage
                applied = committed
            since_analyze += len(batch)
            caught_up_after_many = lag == 0 and since_analyze >= ANALYZE_AFTER_EVENTS
            if caught_up_after_many:
                since_analyze = 0
            writing = asyncio.create_task(_commit(pool, layout, projected, lag, stop, analyze=caught_up_after_many))
            log.debug("projector.batch", events=len(batch), last_seq=projected.last_seq)
    finally:
        stopping.cancel()
        if writing is not None and (committed := await writing) is not None:
            applied = committed
        await sub.unsubscribe()
        log.info("projector.stopped", checkpoint=applied)
    return True


async def _subscribe(js: JetStreamContext, queue: asyncio.Queue[Msg], from_seq: int, batch_max: int) -> Subscription:
    async def on_message(msg: Msg) -> None:
        await queue.put(msg)

    return await feeds.follow(js, streams.EVENTS.subjects[0], on_message, start_seq=from_seq, backlog=batch_max * 50)


async def _next_batch(queue: asyncio.Queue[Msg], stopping: asyncio.Task[Any], batch_max: int) -> list[Msg] | None:
    """Whatever has arrived (waiting for the first), at most batch_max; None once stopping."""
    if stopping.done():
        return None
    getting = asyncio.create_task(queue.get())
    await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not getting.done():
        getting.cancel()
        return None
    batch = [getting.result()]
    while len(batch) < batch_max and not queue.empty():
        batch.append(queue.get_nowait())
    return batch
