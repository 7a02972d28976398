"""The gateway's side of a live session: register it for a worker, publish its audio, follow its output."""

import asyncio
import contextlib

import msgspec
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, NotFoundError

from voxledger.contracts import envelope, subjects
from voxledger.contracts.live import (
    FINALIZE_KIND,
    FRAME_KIND,
    INTERIM_KIND,
    KIND_HEADER,
    OFFSET_HEADER,
    REASON_HEADER,
    SEALED_HEADER,
    TURN_KIND,
    LiveInterim,
    LiveSessionSpec,
    LiveTurn,
    frame_id,
    lease_key,
)
from voxledger.contracts.streams import LEASES_BUCKET, LIVE_AUDIO, LIVE_SESSION_TTL_S, LIVE_SESSIONS_BUCKET
from voxledger.runtime import feeds
from voxledger.runtime.broker import with_broker_retry
from voxledger.runtime.crypto import OVERHEAD
from voxledger.runtime.kv import stored_keys
from voxledger.runtime.logging import get_logger
from voxledger.runtime.vault import Vault

log = get_logger(__name__)
_interim_decoder = msgspec.json.Decoder(LiveInterim)
_turn_decoder = msgspec.json.Decoder(LiveTurn)
# Frames wait in the socket meanwhile; longer than this and the session ends with an error.
PATIENCE_S = 30.0


class LiveBus:
    def __init__(self, nc: Client, vault: Vault):
        self._nc = nc
        self._js = nc.jetstream()
        self._vault = vault  # frames and interims are sealed with the session's data key

    async def register(self, session_id: str, spec: LiveSessionSpec) -> None:
        """Puts the session where workers with room look for one to claim. The registration expires unless
        a worker holding the session refreshes it, so a session nobody holds does not wait forever."""
        subject = f"$KV.{LIVE_SESSIONS_BUCKET}.{session_id}"
        await self._js.publish(subject, msgspec.json.encode(spec), msg_ttl=LIVE_SESSION_TTL_S)

    async def unregister(self, session_id: str) -> None:
        specs = await self._js.key_value(LIVE_SESSIONS_BUCKET)
        with contextlib.suppress(KeyNotFoundError):
            await specs.delete(session_id)

    async def spec(self, session_id: str) -> LiveSessionSpec | None:
        """The open session's spec; None once it has ended (or never existed)."""
        specs = await self._js.key_value(LIVE_SESSIONS_BUCKET)
        try:
            entry = await specs.get(session_id)
        except KeyNotFoundError:
            return None
        return msgspec.json.decode(entry.value, type=LiveSessionSpec) if entry.value else None

    async def received_bytes(self, session_id: str) -> int:
        """How much audio of the session is stored: where a resumed client's next frame goes."""
        try:
            last = await self._js.get_last_msg(LIVE_AUDIO.name, subjects.live_audio_subject(session_id))
        except NotFoundError:
            return 0
        headers = last.headers or {}
        sealed = OVERHEAD if headers.get(SEALED_HEADER) else 0
        return int(headers.get(OFFSET_HEADER, 0)) + len(last.data or b"") - sealed

    async def publish_audio(self, session_id: str, offset: int, data: bytes) -> None:
        """Durable before it returns; a frame re-sent at the same offset is dropped as a duplicate, so one is
        retried while the broker is away (a NATS node lost, the stream's leader being elected again)."""
        payload, sealed = await self._vault.seal_bytes(session_id, FRAME_KIND, str(offset), data)
        headers = {"Nats-Msg-Id": frame_id(session_id, offset), OFFSET_HEADER: str(offset), **sealed}
        await self._publish(subjects.live_audio_subject(session_id), payload, headers)

    async def publish_end(self, session_id: str, offset: int, reason: str) -> None:
        headers = {"Nats-Msg-Id": frame_id(session_id, offset) + ":end", KIND_HEADER: "end", REASON_HEADER: reason}
        await self._publish(subjects.live_audio_subject(session_id), b"", headers)

    async def publish_finalize(self, session_id: str, offset: int) -> None:
        """Asks the worker to make what it heard up to `offset` final now; again at the same offset is a duplicate."""
        headers = {
            "Nats-Msg-Id": frame_id(session_id, offset) + ":" + FINALIZE_KIND,
            KIND_HEADER: FINALIZE_KIND,
            OFFSET_HEADER: str(offset),
        }
        await self._publish(subjects.live_audio_subject(session_id), b"", headers)

    async def _publish(self, subject: str, data: bytes, headers: dict[str, str]) -> None:
        await with_broker_retry(lambda: self._js.publish(subject, data, headers=headers), f"send {subject}", PATIENCE_S)

    async def follow(self, session_id: str, out: asyncio.Queue) -> list:
        """Puts the session's events, as (stream sequence, event), its interims and turn events on `out`; returns
        the subscriptions."""

        async def on_event(msg) -> None:
            try:
                await out.put((msg.metadata.sequence.stream, (await self._vault.decode(msg.data)).body))
            except envelope.UnknownMessage as err:
                log.warning("event.skipped_unknown", reason=str(err))

        async def on_interim(msg) -> None:
            if (msg.headers or {}).get(KIND_HEADER) == TURN_KIND:
                await out.put(_turn_decoder.decode(msg.data))
                return
            data = await self._vault.open_bytes(session_id, INTERIM_KIND, "", msg.data, msg.headers)
            if data is not None:
                await out.put(_interim_decoder.decode(data))

        interims = await self._nc.subscribe(subjects.live_interim_subject(session_id), cb=on_interim)
        events = await feeds.follow(self._js, subjects.aggregate_filter(subjects.RECORDING, session_id), on_event)
        return [interims, events]


async def live_session_counts(js: JetStreamContext) -> dict[str, int]:
    """Open live sessions of all tenants: `active` (a worker holds its lease) and `waiting` for a worker. What
    scales the live workers (deploy/k8s/scaledobjects.yaml); read from the buckets, so every gateway agrees."""
    registered = await stored_keys(await js.key_value(LIVE_SESSIONS_BUCKET))
    held = set(await stored_keys(await js.key_value(LEASES_BUCKET), lease_key(">")))
    active = sum(lease_key(session_id) in held for session_id in registered)
    return {"active": active, "waiting": len(registered) - active}
