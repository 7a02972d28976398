"""The gateway's side of NATS: store audio, publish commands, follow a recording's events."""

import base64
import uuid
from collections.abc import AsyncGenerator
from io import BufferedIOBase
from typing import IO, cast

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.errors import ObjectNotFoundError
from nats.js.object_store import ObjectStore

from voxledger.contracts import streams, subjects
from voxledger.contracts.commands import Command
from voxledger.contracts.envelope import Message, seal
from voxledger.runtime import feeds
from voxledger.runtime.broker import publish_command, with_broker_retry
from voxledger.runtime.telemetry import current_traceparent
from voxledger.runtime.vault import Vault

# How long a request waits out a restarting broker before it answers 503 instead of a promise it cannot keep.
PATIENCE_S = 5.0
# Command ids derive from the dedup key, so a retried request's consistency token is the first one's.
COMMAND_IDS = uuid.UUID("5f0e1c2a-8d7b-4c1e-9a3f-6b2d4e8f0a11")


def command_id_for(tenant: str, dedup_key: str) -> str:
    """A command's id, which is also the consistency token of its 202: the same for a retry with the same key."""
    return str(uuid.uuid5(COMMAND_IDS, f"{tenant}\0{dedup_key}"))


def could_be_command_id(value: str) -> bool:
    """Whether a canonical id may be one of command_id_for's (a UUIDv5); any other names no command."""
    return uuid.UUID(value).version == 5


def audio_key(recording_id: str) -> str:
    """Where a recording's audio is stored in the Object Store (uploads and ended live sessions alike)."""
    return f"recordings/{recording_id}"


async def _stored_sha256(store: ObjectStore, key: str) -> bytes | None:
    try:
        info = await store.get_info(key)
    except ObjectNotFoundError:
        return None
    algorithm, _, encoded = (info.digest or "").partition("=")
    return base64.urlsafe_b64decode(encoded) if algorithm.upper() == "SHA-256" else None


class Bus:
    def __init__(self, js: JetStreamContext, vault: Vault):
        self.js = js
        self.vault = vault  # seals commands' sensitive fields, opens events' (runtime/vault.py)

    async def decode(self, payload: bytes) -> Message:
        """An event from the log, its sealed fields opened (blank once the recording's key is destroyed)."""
        return await self.vault.decode(payload)

    async def store_audio(self, key: str, data: IO[bytes], sha256: bytes) -> None:
        """Stores the blob once. A retried request (same Idempotency-Key) finds it stored and leaves it:
        storing it again would purge the chunks a worker may be reading that very moment."""

        async def put() -> None:
            store = await self.js.object_store(streams.AUDIO_BUCKET)
            if await _stored_sha256(store, key) == sha256:
                return
            data.seek(0)  # a retry after a broker hiccup stores the whole object again
            await store.put(key, cast(BufferedIOBase, data))  # a file object: put() reads it in chunks

        await with_broker_retry(put, f"store {key}", PATIENCE_S)

    async def send(
        self, command: Command, *, aggregate_id: str, tenant: str, dedup_key: str, target: str = subjects.RECORDING
    ) -> str:
        """Publishes durably; returns the command's id, the same for a retry with the same dedup key."""
        command_id = command_id_for(tenant, dedup_key)
        message = seal(
            command, aggregate_id=aggregate_id, tenant_id=tenant, traceparent=current_traceparent(), event_id=command_id
        )
        await publish_command(self.js, target, message, dedup_key, PATIENCE_S, self.vault)
        return command_id

    async def events_head(self) -> int:
        return (await self.js.stream_info(streams.EVENTS.name)).state.last_seq

    async def consumer_backlog(self) -> dict[str, tuple[int, int]]:
        """Per durable consumer: messages waiting to be delivered, and delivered but unacknowledged."""
        backlog = {}
        for spec in streams.CONSUMERS:
            info = await self.js.consumer_info(spec.stream, spec.durable)
            backlog[spec.durable] = (info.num_pending or 0, info.num_ack_pending or 0)
        return backlog

    async def follow(self, recording_id: str, after_seq: int, idle_s: float) -> AsyncGenerator[Msg | None, None]:
        """The recording's events after `after_seq`, in order, forever; None after each idle interval."""
        async for msg in self.follow_subject(
            subjects.aggregate_filter(subjects.RECORDING, recording_id), after_seq, idle_s
        ):
            yield msg

    async def follow_subject(self, subject: str, after_seq: int, idle_s: float) -> AsyncGenerator[Msg | None, None]:
        """The events on `subject` after `after_seq` (0: from the start), in order, forever; None when idle."""
        async with feeds.ordered(self.js, subject, start_seq=after_seq + 1 if after_seq else None) as sub:
            while True:
                try:
                    yield await sub.next_msg(timeout=idle_s)
                except NatsTimeout:
                    yield None

    async def read_audio(self, key: str, start: int, end: int) -> AsyncGenerator[bytes, None]:
        """Bytes `start..end` (inclusive) of a stored blob, chunk by chunk as the Object Store holds them;
        ObjectNotFoundError once the blob is deleted, even after its first chunks."""
        store = await self.js.object_store(streams.AUDIO_BUCKET)
        info = await store.get_info(key)
        offset = 0
        async with feeds.ordered(self.js, f"$O.{streams.AUDIO_BUCKET}.C.{info.nuid}") as sub:
            while offset <= end:
                try:
                    chunk = (await sub.next_msg(timeout=PATIENCE_S)).data
                except NatsTimeout:
                    await store.get_info(key)  # its chunks purged by a delete: ObjectNotFoundError
                    raise
                lo, hi = max(start - offset, 0), min(end - offset + 1, len(chunk))
                if lo < hi:
                    yield chunk[lo:hi]
                offset += len(chunk)

    async def audio_size(self, key: str) -> int | None:
        """The stored blob's size; None when there is none (deleted, or never stored)."""
        store = await self.js.object_store(streams.AUDIO_BUCKET)
        try:
            info = await store.get_info(key)
        except ObjectNotFoundError:
            return None
        return info.size or 0
