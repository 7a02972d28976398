"""The frame every FastStream subscriber runs in (runtime/messaging.py), on a real nats-server and a real
FastStream broker: the handler gets the decoded message in the trace its `traceparent` header carries, and the
message is settled as the handler says (or terminated, unread, when no version of the code can read it)."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client as Nats

from voxledger.contracts import streams
from voxledger.contracts.commands import CancelTranscription
from voxledger.contracts.envelope import Message, encode, seal
from voxledger.contracts.ids import new_id
from voxledger.runtime.consumers import durable_pull
from voxledger.runtime.messaging import HELD, Frame, Nak
from voxledger.runtime.provisioning import consumer_config
from voxledger.runtime.telemetry import current_traceparent

ACK_WAIT_S = 30  # far beyond every wait here: a redelivery below comes from the NAK, not from the ack wait
TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
TRACEPARENT = f"00-{TRACE_ID:032x}-b7ad6b7169203331-01"


def a_command() -> bytes:
    command = CancelTranscription(recording_id=new_id(), job_id=new_id())
    return encode(seal(command, aggregate_id=command.recording_id, tenant_id="runtime-test"))


@dataclass
class Seen:
    deliveries: list[tuple[Any, int, str | None]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Consumer:
    nc: Nats
    spec: streams.ConsumerSpec
    seen: Seen

    async def send(self, body: bytes, headers: dict[str, str] | None = None) -> None:
        await self.nc.jetstream().publish(self.spec.filter_subject, body, headers=headers)

    async def unsettled(self) -> int:
        await self.nc.flush()
        return (await self.nc.jetstream().consumer_info(self.spec.stream, self.spec.durable)).num_ack_pending

    async def deliveries(self, count: int, timeout_s: float) -> list[tuple[Any, int, str | None]]:
        deadline = time.monotonic() + timeout_s
        while len(self.seen.deliveries) < count and time.monotonic() < deadline:
            self.seen.arrived.clear()
            remaining = deadline - time.monotonic()
            try:
                await asyncio.wait_for(self.seen.arrived.wait(), remaining)
            except TimeoutError:
                break
        return self.seen.deliveries


async def consuming(nats_server, answers: list[Any]) -> AsyncIterator[Consumer]:
    """A durable pull subscriber on a stream of its own, its handler answering each delivery in turn."""
    name = f"T{uuid.uuid4().hex}"
    spec = streams.ConsumerSpec(durable="worker", stream=name, filter_subject=f"{name}.cmd", ack_wait_s=ACK_WAIT_S)
    broker = NatsBroker(nats_server.url, middlewares=[Frame])
    nc = await broker.connect()
    js = nc.jetstream()
    await js.add_stream(name=name, subjects=[f"{name}.>"])
    await js.add_consumer(name, config=consumer_config(spec))
    seen = Seen()

    @durable_pull(broker, spec)
    async def handle(message: Message) -> Any:
        delivery = len(seen.deliveries)
        seen.deliveries.append((message.body, delivery + 1, current_traceparent()))
        seen.arrived.set()
        return answers[min(delivery, len(answers) - 1)]

    await broker.start()
    try:
        yield Consumer(nc, spec, seen)
    finally:
        await broker.stop()


@pytest.fixture
async def acking(nats_server) -> AsyncIterator[Consumer]:
    async for consumer in consuming(nats_server, [None]):
        yield consumer


@pytest.fixture
async def naking_once(nats_server) -> AsyncIterator[Consumer]:
    async for consumer in consuming(nats_server, [Nak(0.5), None]):
        yield consumer


@pytest.fixture
async def holding(nats_server) -> AsyncIterator[Consumer]:
    async for consumer in consuming(nats_server, [HELD]):
        yield consumer


async def test_a_handler_gets_the_decoded_command_in_its_trace_and_it_is_acked(acking):
    await acking.send(a_command(), {"traceparent": TRACEPARENT})
    ((body, _, traceparent),) = await acking.deliveries(1, 10)
    assert isinstance(body, CancelTranscription)
    assert traceparent is not None and traceparent.split("-")[1] == f"{TRACE_ID:032x}"
    assert len(await acking.deliveries(2, 2)) == 1, "acked: never redelivered"
    assert await acking.unsettled() == 0


async def test_an_unreadable_message_is_terminated_before_any_handler_sees_it(acking):
    terminated = await acking.nc.subscribe(
        f"$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.{acking.spec.stream}.{acking.spec.durable}"
    )
    await acking.send(b"not an envelope")
    await terminated.next_msg(timeout=10)  # raises if JetStream was not told to terminate it
    assert acking.seen.deliveries == []
    assert await acking.unsettled() == 0


async def test_a_returned_nak_is_redelivered_after_its_delay(naking_once):
    sent = time.monotonic()
    await naking_once.send(a_command())
    deliveries = await naking_once.deliveries(2, 10)
    assert [attempt for _, attempt, _ in deliveries] == [1, 2]
    assert time.monotonic() - sent >= 0.5 * 0.9  # the broker's clock, not ours
    assert await naking_once.unsettled() == 0


async def test_a_held_message_stays_unsettled_for_its_owner(holding):
    await holding.send(a_command())
    await holding.deliveries(1, 10)
    assert await holding.unsettled() == 1
    assert len(await holding.deliveries(2, 2)) == 1, "held: not redelivered within its ack wait"
