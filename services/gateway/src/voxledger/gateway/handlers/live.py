"""WS /v1/live: authenticate, start (or resume) a session, relay audio to JetStream and segments back.

Each connection is a LiveConnection with one job per method. The socket is read by one loop (audio
and control messages) and written by one sender task (interims, finals, ended) plus error replies,
serialized by a lock. A client that disconnects leaves the session open: it may resume it.

The socket is closed once (live_channel.py); the sender task is live_forward.py's.
"""

import asyncio
import contextlib
import time

import structlog
from litestar import WebSocket, websocket
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from nats.aio.client import Client as Nats

from voxledger.contracts.events import TranscriptionOptions
from voxledger.contracts.ids import new_id
from voxledger.contracts.live import LiveSessionSpec
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.live import LiveBus
from voxledger.gateway.domain import live_protocol as proto
from voxledger.gateway.domain.errors import DomainError
from voxledger.gateway.domain.models import ModelCatalog
from voxledger.gateway.handlers.live_channel import (
    INTERNAL_ERROR,
    POLICY_VIOLATION,
    TIMED_OUT,
    TRY_AGAIN_LATER,
    LiveChannel,
    authenticate,
)
from voxledger.gateway.handlers.live_forward import Forwarder, Messages, admitted
from voxledger.gateway.http.auth import KeyResolver
from voxledger.gateway.http.quotas import Quotas, Slot
from voxledger.gateway.settings import GatewaySettings
from voxledger.runtime.telemetry import current_traceparent

log = structlog.get_logger(__name__)


@websocket("/live")
async def live_socket(
    socket: WebSocket,
    settings: NamedDependency[GatewaySettings],
    nc: NamedDependency[Nats],
    key_resolver: NamedDependency[KeyResolver],
    quotas: NamedDependency[Quotas],
    catalog: NamedDependency[ModelCatalog],
    bus: NamedDependency[Bus],
) -> None:
    await socket.accept()
    await run_connection(LiveConnection(socket, settings, LiveBus(nc, bus.vault), key_resolver, quotas, catalog))


async def run_connection(connection: "LiveConnection") -> None:
    """Serves an accepted socket to its end; an unexpected error closes it with 1011."""
    try:
        await connection.serve()
    except WebSocketDisconnect:
        log.info("live.client_disconnected", session_id=connection.session_id)
    except Exception:
        log.exception("live.connection_failed", session_id=connection.session_id)
        await connection.close(INTERNAL_ERROR, "internal_error")
    finally:
        await connection.release()


async def checked_options(
    catalog: ModelCatalog, quotas: Quotas, tenant: str, start: proto.Start
) -> TranscriptionOptions:
    """A start's model and language, refused here, never discovered later by a worker that cannot load the model
    (or answers in English); and the tenant's room in the log, which a session appends to as it goes."""
    language = start.language and start.language.lower()
    try:
        model = catalog.check(start.model)
        catalog.check_language(model, language)
        await quotas.check_event_log(tenant)
    except DomainError as err:
        raise proto.ProtocolError(err.code, err.message) from None
    return TranscriptionOptions(model=model, language=language)


class LiveConnection:
    def __init__(
        self,
        socket: WebSocket,
        settings: GatewaySettings,
        bus: LiveBus,
        key_resolver: KeyResolver,
        quotas: Quotas,
        catalog: ModelCatalog,
    ):
        self._channel = LiveChannel(socket)
        self._settings = settings
        self._bus = bus
        self._key_resolver, self._quotas, self._catalog = key_resolver, quotas, catalog
        self._out: asyncio.Queue = asyncio.Queue()
        self._subscriptions: list = []
        self._sender: asyncio.Task | None = None
        self._ended = asyncio.Event()
        self.session_id: str | None = None
        self._spec: LiveSessionSpec | None = None
        self._offset = 0  # bytes of the session's audio stored so far
        self._last_final = -1
        self._slot: Slot | None = None  # this connection's unit of the tenant's live-session quota
        self.messages: Messages | None = None  # how the worker's output reads here (None: the native protocol)

    async def serve(self) -> None:
        timeout_s = self._settings.live_auth_timeout_s
        authenticated = await authenticate(self._channel, timeout_s, self._key_resolver, self._quotas)
        if authenticated is None:
            return
        info, self._slot = authenticated
        ended_by = await self._key_resolver.guard(info).run(self._serve_session(info.tenant))
        if ended_by is not None:
            await self._end_for_credential(ended_by)

    async def _end_for_credential(self, reason: str) -> None:
        """The key was revoked or expired: nothing more reaches the client, no more audio is taken, and the
        session ends at once with the audio received until then, as if the client had stopped."""
        log.info("live.credential_ended", session_id=self.session_id, reason=reason)
        if self._sender is not None:
            self._sender.cancel()
        with contextlib.suppress(WebSocketDisconnect):
            await self._channel.send_error(reason, "the API key was revoked or has expired", fatal=True)
        await self.close(POLICY_VIOLATION, reason)
        if self.session_id is not None:
            await self._bus.publish_end(self.session_id, self._offset, "stopped")

    async def _serve_session(self, tenant: str) -> None:
        if not await self._open(tenant):
            return
        reason = await self._relay_audio()
        if reason is None and self.messages is None:
            return  # the client went away: the session stays open to be resumed (the native protocol's `resume`)
        await self._bus.publish_end(self._session[0], self._offset, reason or "stopped")  # or gone for good
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ended.wait(), self._settings.live_end_timeout_s)
        await self.close()

    @property
    def _session(self) -> tuple[str, LiveSessionSpec]:
        """The id and spec of the session this socket serves, once `start` or `resume` has opened one."""
        if self.session_id is None or self._spec is None:
            raise RuntimeError("no live session is open on this socket")
        return self.session_id, self._spec

    async def release(self) -> None:
        if self._slot is not None:
            self._slot.release()
        if self._sender is not None:
            self._sender.cancel()
        for sub in self._subscriptions:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._channel.close(code, reason)

    async def _open(self, tenant: str) -> bool:
        """Waits for `start` or `resume`; anything else gets an error and the socket keeps waiting."""
        while True:
            got = await self._channel.receive(self._settings.live_inactivity_timeout_s)
            if got is None or got is TIMED_OUT:
                return False
            kind, data = got
            try:
                if kind == "bytes":
                    raise proto.ProtocolError("start_required", "send a `start` message before audio")
                message = proto.parse(data)
                if isinstance(message, proto.Start):
                    return await self._start(tenant, message)
                if isinstance(message, proto.Resume):
                    return await self._resume(tenant, message)
                raise proto.ProtocolError(
                    "start_required", f"`{type(message).__name__.lower()}` needs a session: send `start` first"
                )
            except proto.ProtocolError as err:
                await self._channel.fail(err)

    async def _start(self, tenant: str, start: proto.Start) -> bool:
        options = await checked_options(self._catalog, self._quotas, tenant, start)
        self.session_id = new_id()
        spec = LiveSessionSpec(
            tenant_id=tenant,
            job_id=new_id(),
            sample_rate=start.sample_rate,
            encoding=start.encoding,
            options=options,
            traceparent=current_traceparent(),
            endpointing_s=start.endpointing_s,
            utterance_end_s=start.utterance_end_ms / 1000,
        )
        self._subscriptions = await self._bus.follow(self.session_id, self._out)
        await self._bus.register(self.session_id, spec)
        started_seq = await admitted(self._out, self._settings.live_admission_timeout_s)
        if started_seq is None:
            await self._bus.unregister(self.session_id)
            busy = proto.ProtocolError("no_live_capacity", "every live worker is busy; try again shortly", fatal=True)
            await self._channel.fail(busy, TRY_AGAIN_LATER)
            return False
        self._spec = spec
        log.info("live.session_started", session_id=self.session_id)
        ready = {"type": "ready", "session_id": self.session_id, "job_id": spec.job_id, "received_s": 0.0}
        try:
            await self._ready({**ready, "event_seq": started_seq})
        except WebSocketDisconnect:
            # Gone before it learned the session's id, the client cannot resume it: the worker is freed now.
            await self._bus.publish_end(self.session_id, 0, "inactivity")
            raise
        self._start_sender(spec.job_id)
        return True

    async def _ready(self, ready: dict) -> None:
        await self._channel.send(ready)

    async def _resume(self, tenant: str, resume: proto.Resume) -> bool:
        spec = await self._bus.spec(resume.session_id)
        if spec is None or spec.tenant_id != tenant:
            raise proto.ProtocolError("session_not_found", "no open live session with this id")
        self.session_id, self._spec, self._last_final = resume.session_id, spec, resume.after_index
        self._offset = await self._bus.received_bytes(self.session_id)
        self._subscriptions = await self._bus.follow(self.session_id, self._out)
        received_s = proto.seconds(self._offset, spec.encoding, spec.sample_rate)
        log.info("live.session_resumed", session_id=self.session_id, received_s=received_s)
        await self._channel.send(
            {"type": "ready", "session_id": self.session_id, "job_id": spec.job_id, "received_s": received_s}
        )
        self._start_sender(spec.job_id)
        return True

    async def _relay_audio(self) -> str | None:
        """Audio frames to JetStream until stop, inactivity or the length limit; None if the client left."""
        (session_id, spec), settings = self._session, self._settings
        pacer = proto.Pacer(time.monotonic(), settings.live_burst_s)
        warned = False
        while True:
            got = await self._channel.receive(settings.live_inactivity_timeout_s)
            if got is TIMED_OUT:
                return "inactivity"
            if got is None:
                return None
            kind, data = got
            try:
                if kind == "text":
                    if (ends := await self._control(data)) is not None:
                        return ends
                    continue
                proto.check_frame(data, spec.encoding)
            except proto.ProtocolError as err:
                await self._channel.fail(err)  # the frame or message is refused, the session goes on
                continue
            frame_s = proto.seconds(len(data), spec.encoding, spec.sample_rate)
            if proto.seconds(self._offset, spec.encoding, spec.sample_rate) + frame_s > settings.live_max_session_s:
                await self._channel.send_error(
                    "session_too_long", f"a live session lasts at most {settings.live_max_session_s:.0f} s", True
                )
                return "max_duration"
            await self._bus.publish_audio(session_id, self._offset, data)
            self._offset += len(data)
            if (wait_s := pacer.add(frame_s, time.monotonic())) > 0:
                if not warned:
                    await self._channel.send_error(
                        "sending_too_fast", "audio arrives faster than real time: reading is paused to keep pace"
                    )
                    warned = True
                await asyncio.sleep(wait_s)  # not reading pushes back on the client through TCP; nothing is dropped

    async def _control(self, text: str) -> str | None:  # mid-session: the end reason it asks for, or None to go on
        if isinstance(proto.parse(text), proto.Stop):
            return "stopped"
        raise proto.ProtocolError("unexpected_message", "during a session only audio and `stop` are expected")

    def _start_sender(self, job_id: str) -> None:
        forwarder = Forwarder(self._channel, self._out, self._session[0], job_id, self._last_final, self.messages)
        self._sender = asyncio.create_task(forwarder.run(self._ended))
