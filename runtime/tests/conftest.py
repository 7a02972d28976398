"""A bare nats-server with JetStream (no services, no database): the runtime's glue on the real broker.

A command queue is one command on a stream of its own with a durable pull consumer, received as the
services receive it (FastStream's NatsMessage around the JetStream message)."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import nats
import nats.errors
import pytest
from faststream.nats.message import NatsMessage
from nats.aio.client import Client as Nats
from nats.aio.subscription import Subscription
from nats.js import api as js_api

from voxledger.contracts.commands import CancelTranscription
from voxledger.contracts.envelope import encode, seal
from voxledger.contracts.ids import new_id
from voxledger.stack.embedded import NatsServer


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path_factory.mktemp("nats")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def nc(nats_server) -> AsyncIterator[Nats]:
    connection = await nats.connect(nats_server.url)
    try:
        yield connection
    finally:
        await connection.close()


class Queue:
    def __init__(self, nc: Nats, ack_wait_s: float):
        self.nc, self.js = nc, nc.jetstream()
        self.stream = f"T{uuid.uuid4().hex}"
        self.ack_wait_s = ack_wait_s

    async def with_command(self, body: bytes | None = None) -> "Queue":
        await self.js.add_stream(name=self.stream, subjects=[f"{self.stream}.>"])
        config = js_api.ConsumerConfig(ack_wait=self.ack_wait_s, max_deliver=-1)
        self.sub = await self.js.pull_subscribe(f"{self.stream}.cmd", durable="worker", config=config)
        await self.js.publish(f"{self.stream}.cmd", body if body is not None else a_command())
        return self

    async def next(self, timeout_s: float) -> NatsMessage | None:
        """The next delivery within `timeout_s`, or None."""
        try:
            (raw,) = await self.sub.fetch(1, timeout=timeout_s)
        except nats.errors.TimeoutError:
            return None
        return NatsMessage(raw, body=raw.data)

    async def terminations(self) -> Subscription:
        """JetStream's advisory for each message the consumer was told to terminate."""
        return await self.nc.subscribe(f"$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.{self.stream}.worker")

    async def unsettled(self) -> int:
        await self.nc.flush()
        return (await self.js.consumer_info(self.stream, "worker")).num_ack_pending


def a_command() -> bytes:
    command = CancelTranscription(recording_id=new_id(), job_id=new_id())
    return encode(seal(command, aggregate_id=command.recording_id, tenant_id="runtime-test"))


@pytest.fixture
def command_queue(nc) -> Callable[..., Awaitable[Queue]]:
    """`await command_queue(ack_wait_s)`: a queue holding one command (or `body`, for unreadable input)."""

    async def holding(ack_wait_s: float, body: bytes | None = None) -> Queue:
        return await Queue(nc, ack_wait_s).with_command(body)

    return holding
