"""The `live_sessions` bucket: sessions waiting for a worker or held by one.

The gateway registers a session with a per-key TTL (LIVE_SESSION_TTL_S); the worker holding it
refreshes the registration, so one that nobody holds (its gateway and workers gone) expires on its own.
"""

import contextlib
import time

import msgspec
import structlog
from nats.js import JetStreamContext
from nats.js.api import Header
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from voxledger.contracts.live import LiveSessionSpec
from voxledger.contracts.streams import LIVE_SESSION_TTL_S, LIVE_SESSIONS_BUCKET
from voxledger.runtime.kv import stored_keys

log = structlog.get_logger(__name__)
REFRESH_EVERY_S = LIVE_SESSION_TTL_S / 4


class Registration(msgspec.Struct, kw_only=True):
    session_id: str
    spec: LiveSessionSpec
    revision: int
    refreshed_at: float = 0.0


class SessionRegistry:
    def __init__(self, js: JetStreamContext, bucket: KeyValue):
        self._js = js
        self._bucket = bucket

    @classmethod
    async def open(cls, js: JetStreamContext) -> "SessionRegistry":
        return cls(js, await js.key_value(LIVE_SESSIONS_BUCKET))

    async def session_ids(self) -> list[str]:
        """The registered sessions."""
        return await stored_keys(self._bucket)

    async def get(self, session_id: str) -> Registration | None:
        """The session's registration; None once it ended. One that does not decode is removed: it can never run."""
        try:
            entry = await self._bucket.get(session_id)
        except KeyNotFoundError:
            return None
        if not entry.value:
            return None
        try:
            spec = msgspec.json.decode(entry.value, type=LiveSessionSpec)
        except msgspec.DecodeError as err:
            log.error("live.registration_malformed", session_id=session_id, error=str(err))
            await self.remove(session_id)
            return None
        return Registration(
            session_id=session_id, spec=spec, revision=entry.revision or 0, refreshed_at=time.monotonic()
        )

    async def refresh_if_due(self, registration: Registration) -> None:
        """Renews the registration's TTL while its session is held. Compare-and-set on its revision,
        so a registration removed meanwhile (the session ended) is never brought back."""
        if time.monotonic() - registration.refreshed_at < REFRESH_EVERY_S:
            return
        headers = {Header.EXPECTED_LAST_SUBJECT_SEQUENCE.value: str(registration.revision)}
        try:
            ack = await self._js.publish(
                f"$KV.{LIVE_SESSIONS_BUCKET}.{registration.session_id}",
                msgspec.json.encode(registration.spec),
                headers=headers,
                msg_ttl=LIVE_SESSION_TTL_S,
            )
        except Exception as err:  # removed meanwhile (wrong last sequence) or a broker hiccup: never fatal
            log.warning("live.registration_not_refreshed", error=str(err))
            return
        registration.revision, registration.refreshed_at = ack.seq, time.monotonic()

    async def remove(self, session_id: str) -> None:
        with contextlib.suppress(KeyNotFoundError):
            await self._bucket.delete(session_id)
