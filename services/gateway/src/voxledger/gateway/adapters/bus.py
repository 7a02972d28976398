"""The gateway's side of NATS: store audio, publish commands, follow a recording's events."""

from collections.abc import AsyncIterator
from typing import IO

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js import api as js_api

from voxledger.contracts import subjects
from voxledger.contracts.commands import Command
from voxledger.contracts.envelope import seal
from voxledger.contracts.streams import AUDIO_BUCKET
from voxledger.runtime.jetstream import publish_command, with_broker_retry
from voxledger.runtime.telemetry import current_traceparent

# How long a request waits out a restarting broker before it answers 503 instead of a promise it cannot keep.
PATIENCE_S = 5.0


class Bus:
    def __init__(self, js: JetStreamContext):
        self.js = js

    async def store_audio(self, key: str, data: IO[bytes]) -> None:
        async def put() -> None:
            data.seek(0)  # a retry stores the whole object again, under the same key
            store = await self.js.object_store(AUDIO_BUCKET)
            await store.put(key, data)

        await with_broker_retry(put, f"store {key}", PATIENCE_S)

    async def send(self, command: Command, *, aggregate_id: str, tenant: str, dedup_key: str) -> int:
        message = seal(command, aggregate_id=aggregate_id, tenant_id=tenant, traceparent=current_traceparent())
        return await publish_command(self.js, subjects.RECORDING, message, dedup_key, PATIENCE_S)

    async def follow(self, recording_id: str, after_seq: int, idle_s: float) -> AsyncIterator[Msg | None]:
        """The recording's events after `after_seq`, in order, forever; None after each idle interval."""
        policy = (
            js_api.ConsumerConfig(deliver_policy=js_api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after_seq + 1)
            if after_seq
            else js_api.ConsumerConfig(deliver_policy=js_api.DeliverPolicy.ALL)
        )
        sub = await self.js.subscribe(
            subjects.aggregate_filter(subjects.RECORDING, recording_id), ordered_consumer=True, config=policy
        )
        try:
            while True:
                try:
                    yield await sub.next_msg(timeout=idle_s)
                except NatsTimeout:
                    yield None
        finally:
            await sub.unsubscribe()
