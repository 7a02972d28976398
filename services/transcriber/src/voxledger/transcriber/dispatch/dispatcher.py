"""The dispatcher: the only reader of `transcription-jobs`, one active across all transcribers (under a lease).

It pulls every queued unit of work (any message that consumer delivers; a FastStream subscriber of the
consumer, started for each tenure and stopped at its end), holds it unacked and heartbeated,
and hands one to the WORK queue only when a worker is free, choosing it fairly (fairness.py). A worker is
free when the WORK consumer has more pull requests waiting than messages undelivered (`num_waiting >
num_pending`, polled every `dispatch_poll_s`): workers pull only while a slot is free (jobs/runner.py), so
WORK stays empty and the fair choice is made at the moment a slot frees, not when the work arrived.
(nats-server has no push signal for "a pull request is waiting"; consumer priority groups pin or overflow
by client, not by tenant, so they cannot make this choice.)

Dispatching publishes the original bytes and headers to `vl.work.transcribe.<type>` with Nats-Msg-Id set
from the source sequence, then acks the source: a crash between the two redelivers the source, and its
second publish is dropped as a duplicate. A retry a worker NAKs stays on WORK (it was already dispatched),
so it is not queued fairly again. A standby takes over once the lease expires; what the old holder held is
redelivered to it after the consumer's AckWait (VOXLEDGER_ACK_WAIT_S; at once, if the old holder stopped
cleanly and NAKed it).
"""

import asyncio
import contextlib
import time

import msgspec
import structlog
from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage
from nats.aio.client import Client
from nats.aio.msg import Msg

from voxledger.contracts import streams, subjects
from voxledger.contracts.envelope import decode_envelope
from voxledger.runtime.consumers import durable_pull
from voxledger.runtime.leadership import Leadership, run_as_leader
from voxledger.runtime.lifecycle import sleep_unless
from voxledger.runtime.messaging import HELD, Held, raw
from voxledger.transcriber.dispatch.fairness import FairQueue, Work, work_priority
from voxledger.transcriber.settings import TranscriberSettings

log = structlog.get_logger(__name__)

LEASE_KEY = "dispatcher.transcription"


def work_of(msg: Msg) -> Work:
    """What the fair choice needs from a held message; one it cannot read is forwarded as normal work
    (the worker terminates it loudly, as it would any undecodable job)."""
    seq = msg.metadata.sequence.stream
    try:
        envelope = decode_envelope(msg.data)
        body = msgspec.json.decode(envelope.data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return Work(seq=seq, tenant="")
    body = body if isinstance(body, dict) else {}
    job_id = body.get("job_id")
    return Work(
        seq=seq,
        tenant=envelope.tenant_id,
        priority=work_priority(envelope.type, body),
        job_id=job_id if isinstance(job_id, str) else "",
    )


def work_headers(msg: Msg) -> dict[str, str]:
    """The source's headers, less its append preconditions (they were about EVENTS), deduplicated by sequence."""
    kept = {k: v for k, v in (msg.headers or {}).items() if not k.startswith("Nats-Expected")}
    return {**kept, "Nats-Msg-Id": f"dispatch-{msg.metadata.sequence.stream}"}


class Dispatcher:
    def __init__(self, broker: NatsBroker, nc: Client, settings: TranscriberSettings, holder: str):
        self._broker = broker
        self._nc = nc
        self._js = nc.jetstream()
        self._settings = settings
        self._holder = holder

    async def serve(self, stop: asyncio.Event) -> None:
        """Dispatches while holding the lease, stands by while another transcriber does; until `stop`."""
        poll_s = self._settings.dispatch_standby_poll_s
        leadership = Leadership("dispatcher", LEASE_KEY, self._holder, streams.DISPATCH_LEASE_TTL_S, poll_s)
        await run_as_leader(self._js, leadership, self._dispatch_until, stop, _unavailable)

    async def _dispatch_until(self, halt: asyncio.Event) -> None:
        session = _Session(self._broker, self._nc, self._settings, halt)
        try:
            await session.run()
        finally:
            await session.hand_back()


def _unavailable() -> None:
    log.warning("dispatcher.unavailable", exc_info=True)  # the broker is away: try again shortly


class _Session:
    """One tenure as the active dispatcher: what it holds is its own until `halt`."""

    def __init__(self, broker: NatsBroker, nc: Client, settings: TranscriberSettings, halt: asyncio.Event):
        self._broker = broker
        self._nc = nc
        self._js = nc.jetstream()
        self._settings = settings
        self._halt = halt
        self.queue = FairQueue()
        self.held: dict[int, Msg] = {}
        self.by_job: dict[str, set[int]] = {}  # job id -> the sequences of its held work

    async def run(self) -> None:
        # One message per fetch, handed over as received: held at once, so nothing waits for a batch to fill.
        puller = durable_pull(self._broker, streams.TRANSCRIPTION_JOBS, decoder=raw, persistent=False)
        puller(self._hold)
        # A job that ended cancelled needs none of its work any more: drop it, so that it takes no turn from its
        # tenant. Only the end counts, not the request: a chunked job's cancel is recorded by whichever of its
        # chunks a worker takes next, so its queued chunks must still go out until one has. One missed while
        # disconnected is skipped by the worker instead.
        cancels = await self._nc.subscribe(
            subjects.event_type_filter(subjects.RECORDING, "TranscriptionCancelled"), cb=self._on_cancel
        )
        tasks = [asyncio.create_task(loop) for loop in (self._heartbeat(), self._dispatch())]
        try:
            await puller.start()
            await self._halt.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await puller.stop()
            with contextlib.suppress(Exception):
                await cancels.unsubscribe()

    async def hand_back(self) -> None:
        """NAKs what is still held, so the next holder gets it at once instead of after AckWait."""
        for msg in self.held.values():
            with contextlib.suppress(Exception):
                await msg.nak()
        self.held.clear()

    async def _hold(self, delivered: NatsMessage) -> Held:
        """A queued unit of work, held until dispatched: its message settles when it goes to WORK."""
        msg = delivered.raw_message
        work = work_of(msg)
        self.held[work.seq] = msg  # a redelivery replaces the delivery it renews
        if self.queue.add(work):
            self.by_job.setdefault(work.job_id, set()).add(work.seq)
            log.debug("dispatcher.queued", seq=work.seq, tenant=work.tenant, priority=work.priority)
        return HELD

    async def _heartbeat(self) -> None:
        every_s = min(self._settings.heartbeat_s, self._settings.ack_wait_s / 3)  # well inside the AckWait
        while not self._halt.is_set():
            await sleep_unless(self._halt, every_s)
            for msg in list(self.held.values()):
                with contextlib.suppress(Exception):
                    await msg.in_progress()

    async def _dispatch(self) -> None:
        work = streams.TRANSCRIPTION_WORK
        while not self._halt.is_set():
            await sleep_unless(self._halt, self._settings.dispatch_poll_s)
            if not self.queue:
                continue
            try:
                info = await self._js.consumer_info(work.stream, work.durable)
                for _ in range(min((info.num_waiting or 0) - (info.num_pending or 0), len(self.queue))):
                    if self._halt.is_set():
                        return
                    await self._dispatch_next()
            except Exception as err:
                log.warning("dispatcher.dispatch_failed", error=repr(err))

    async def _dispatch_next(self) -> None:
        work = self.queue.pop(time.time())
        if work is None:
            return
        msg = self.held[work.seq]
        try:
            await self._js.publish(
                subjects.work_transcribe_subject(msg.subject.rsplit(".", 1)[-1]),
                msg.data,
                stream=streams.WORK.name,
                headers=work_headers(msg),
            )
        except Exception:
            self.queue.add(work)  # still held: dispatched on a later round
            raise
        del self.held[work.seq]
        self._forget(work)
        await msg.ack()
        log.info("dispatcher.dispatched", seq=work.seq, tenant=work.tenant, priority=work.priority)

    def _forget(self, work: Work) -> None:
        if seqs := self.by_job.get(work.job_id):
            seqs.discard(work.seq)
            if not seqs:
                del self.by_job[work.job_id]

    async def _on_cancel(self, raw: Msg) -> None:
        try:
            job_id = msgspec.json.decode(decode_envelope(raw.data).data).get("job_id")
        except (msgspec.DecodeError, msgspec.ValidationError, AttributeError):
            return
        for seq in self.by_job.pop(job_id, set()) if isinstance(job_id, str) and job_id else ():
            if self.queue.discard(seq) and (msg := self.held.pop(seq, None)) is not None:
                with contextlib.suppress(Exception):
                    await msg.ack()  # its job ended cancelled: there is nothing left to dispatch
                log.info("dispatcher.dropped_cancelled", seq=seq, job_id=job_id)
