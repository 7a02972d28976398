"""The gateway's side of NATS: store audio, publish commands, follow a recording's events."""

import uuid
from collections.abc import AsyncIterator
from typing import IO

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js import api as js_api

from voxledger.contracts import subjects
from voxledger.contracts.commands import Command
from voxledger.contracts.envelope import seal
from voxledger.contracts.streams import AUDIO_BUCKET, EVENTS
from voxledger.runtime.jetstream import publish_command
from voxledger.runtime.telemetry import current_traceparent

# Command ids derive from the dedup key, so a retried request's consistency token is the first one's.
COMMAND_IDS = uuid.UUID("5f0e1c2a-8d7b-4c1e-9a3f-6b2d4e8f0a11")


class Bus:
    def __init__(self, js: JetStreamContext):
        self.js = js

    async def store_audio(self, key: str, data: IO[bytes]) -> None:
        store = await self.js.object_store(AUDIO_BUCKET)
        await store.put(key, data)

    async def send(self, command: Command, *, aggregate_id: str, tenant: str, dedup_key: str) -> str:
        """Publishes durably; returns the command's id, the same for a retry with the same dedup key."""
        command_id = str(uuid.uuid5(COMMAND_IDS, f"{tenant}\0{dedup_key}"))
        message = seal(
            command, aggregate_id=aggregate_id, tenant_id=tenant, traceparent=current_traceparent(), event_id=command_id
        )
        await publish_command(self.js, subjects.RECORDING, message, dedup_key)
        return command_id

    async def events_head(self) -> int:
        return (await self.js.stream_info(EVENTS.name)).state.last_seq

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
