"""The projector loop: read events after the checkpoint, project them, apply each batch in one transaction.

Batches adapt to load: whatever has arrived since the last commit goes into the
next one (at most batch_max), so a lone event is visible at once and a burst
shares a commit.
"""

import asyncio
import contextlib

import asyncpg
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js import api as js_api

from voxledger.contracts import envelope, streams
from voxledger.projector.adapters.postgres import apply_batch, checkpoint
from voxledger.projector.domain.projection import Op, project
from voxledger.runtime.db import DATABASE_UNAVAILABLE_ERRORS

log = structlog.get_logger(__name__)

PROJECTION = "read_models"
RETRY_MAX_S = 5.0


def project_raw(msg: Msg) -> tuple[int, list[Op]]:
    seq = msg.metadata.sequence.stream
    try:
        return seq, project(envelope.decode(msg.data), seq)
    except envelope.UnknownMessage as err:
        log.warning("event.skipped", subject=msg.subject, seq=seq, reason=str(err))
        return seq, []


async def apply_until_committed(
    pool: asyncpg.Pool, projected: list[tuple[int, list[Op]]], stop: asyncio.Event
) -> int | None:
    """The new checkpoint. A database outage holds the batch and retries it with backoff, so no event
    is skipped; None if stopped meanwhile, leaving the batch to the next run."""
    delay = 0.2
    while True:
        try:
            return await apply_batch(pool, PROJECTION, projected[-1][0], projected)
        except DATABASE_UNAVAILABLE_ERRORS as err:
            log.warning("projector.database_unavailable", error=repr(err), retry_in_s=delay)
        except Exception:
            # asyncpg has more ways to fail when the server goes away mid-batch; whatever it was, the
            # transaction rolled back and the checkpoint stayed: retry the same batch, loudly.
            log.exception("projector.batch_failed", retry_in_s=delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return None
        delay = min(delay * 2, RETRY_MAX_S)


async def run_projection(js: JetStreamContext, pool: asyncpg.Pool, batch_max: int, stop: asyncio.Event) -> None:
    # Bounded, so a long backlog pushes back on the consumer's flow control instead of filling memory.
    queue: asyncio.Queue[Msg] = asyncio.Queue(maxsize=batch_max * 4)

    async def on_message(msg: Msg) -> None:
        await queue.put(msg)

    start = await checkpoint(pool, PROJECTION)
    sub = await js.subscribe(
        streams.EVENTS.subjects[0],
        ordered_consumer=True,
        cb=on_message,
        config=js_api.ConsumerConfig(deliver_policy=js_api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start + 1),
    )
    log.info("projector.started", projection=PROJECTION, from_seq=start + 1)
    applied = start
    stopping = asyncio.create_task(stop.wait())
    try:
        while not stop.is_set():
            getting = asyncio.create_task(queue.get())
            await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not getting.done():
                getting.cancel()
                break
            batch = [getting.result()]
            while len(batch) < batch_max and not queue.empty():
                batch.append(queue.get_nowait())
            projected = [project_raw(m) for m in batch]
            committed = await apply_until_committed(pool, projected, stop)
            if committed is None:
                break
            applied = committed
            log.debug("projector.applied", events=len(batch), checkpoint=applied)
    finally:
        stopping.cancel()
        await sub.unsubscribe()
        log.info("projector.stopped", checkpoint=applied)
