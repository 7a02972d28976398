"""WS /v1/live: authenticate, start (or resume) a session, relay audio to JetStream and segments back.

Each connection is a LiveConnection with one job per method. The socket is read by one loop (audio
and control messages) and written by one sender task (interims, finals, ended) plus error replies,
serialized by a lock. A client that disconnects leaves the session open: it may resume it.

The socket is closed once: by this handler, or by the server itself (a message over the size cap, a missed
keepalive) possibly while a reply is being written. Whichever comes first, later sends and closes are no-ops.
"""

import asyncio
import contextlib
import time

import msgspec
import structlog
from litestar import WebSocket, websocket
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from nats.aio.client import Client as Nats

from voxledger.contracts import events as ev
from voxledger.contracts.events import TranscriptionOptions
from voxledger.contracts.ids import new_id
from voxledger.contracts.live import LiveInterim, LiveSessionSpec
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.live import LiveBus
from voxledger.gateway.domain import live_protocol as proto
from voxledger.gateway.domain.errors import DomainError
from voxledger.gateway.domain.keys import KeyInfo
from voxledger.gateway.domain.models import ModelCatalog
from voxledger.gateway.http.auth import AuthLimits, KeyResolver, refusal
from voxledger.gateway.http.errors import ApiError
from voxledger.gateway.http.quotas import Quotas, Slot
from voxledger.gateway.http.state import app_state
from voxledger.gateway.settings import GatewaySettings
from voxledger.runtime.telemetry import current_traceparent

log = structlog.get_logger(__name__)
TIMED_OUT = object()
# What sending on a socket that is closed raises: Litestar's WebSocketDisconnect once a disconnect was received,
# an OSError when the transport is gone, and (uvicorn) a RuntimeError when the server already sent a close frame.
SOCKET_GONE = (WebSocketDisconnect, OSError, RuntimeError)
POLICY_VIOLATION, INTERNAL_ERROR, TRY_AGAIN_LATER = 1008, 1011, 1013


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
    connection = LiveConnection(socket, settings, LiveBus(nc, bus.vault), key_resolver, quotas, catalog)
    try:
        await connection.serve()
    except WebSocketDisconnect:
        log.info("live.client_disconnected", session_id=connection.session_id)
    except Exception:
        log.exception("live.connection_failed", session_id=connection.session_id)
        await connection.close(INTERNAL_ERROR, "internal_error")
    finally:
        await connection.release()


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
        self._socket = socket
        self._settings = settings
        self._bus = bus
        self._key_resolver, self._quotas, self._catalog = key_resolver, quotas, catalog
        self._out: asyncio.Queue = asyncio.Queue()
        self._send_lock = asyncio.Lock()
        self._subscriptions: list = []
        self._sender: asyncio.Task | None = None
        self._ended = asyncio.Event()
        self._closed = False  # a close frame went out (from here or from the server): nothing more is sent
        self.session_id: str | None = None
        self._spec: LiveSessionSpec | None = None
        self._offset = 0  # bytes of the session's audio stored so far
        self._last_final = -1
        self._started_seq = 0  # the consistency token of `ready`: reads with ?min_seq= see the session
        self._slot: Slot | None = None  # this connection's unit of the tenant's live-session quota

    async def serve(self) -> None:
        info = await self._authenticate()
        if info is None:
            return
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
            await self._send(proto.error(reason, "the API key was revoked or has expired", fatal=True))
        await self.close(POLICY_VIOLATION, reason)
        if self.session_id is not None:
            await self._bus.publish_end(self.session_id, self._offset, "stopped")

    async def _serve_session(self, tenant: str) -> None:
        if not await self._open(tenant):
            return
        reason = await self._relay_audio()
        if reason is None:
            return  # the client went away: the session stays open to be resumed
        await self._bus.publish_end(self._session[0], self._offset, reason)
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
        """Sends the close frame unless one went out already; a socket that is gone counts as closed."""
        async with self._send_lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(*SOCKET_GONE):
                await self._socket.close(code, reason)

    async def _send(self, message: dict) -> None:
        """One message to the client; WebSocketDisconnect once the socket is closed or the client is gone."""
        async with self._send_lock:
            if self._closed:
                raise WebSocketDisconnect(detail="the socket is closed")
            try:
                await self._socket.send_data(msgspec.json.encode(message).decode())
            except SOCKET_GONE as err:
                self._closed = True
                raise WebSocketDisconnect(detail="the socket is closed") from err

    async def _fail(self, err: proto.ProtocolError, close_code: int = POLICY_VIOLATION) -> None:
        await self._send(proto.error(err.code, err.message, err.fatal))
        if err.fatal:
            await self.close(close_code, err.code)

    async def _next(self, timeout_s: float):
        """("text", str) or ("bytes", bytes); None when the client is gone; TIMED_OUT after `timeout_s` of silence."""
        try:
            message = await asyncio.wait_for(self._socket.receive(), timeout_s)
        except TimeoutError:
            return TIMED_OUT
        if message["type"] != "websocket.receive":
            return None
        if message.get("bytes") is not None:
            return "bytes", message["bytes"]
        return "text", message.get("text") or ""

    async def _authenticate(self) -> KeyInfo | None:
        """The key, from `Authorization: Bearer` or, for browsers, a first `auth` message."""
        scheme, _, key = self._socket.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            got = await self._next(self._settings.live_auth_timeout_s)  # an anonymous socket is not held long
            key = ""
            if isinstance(got, tuple) and got[0] == "text":
                with contextlib.suppress(proto.ProtocolError):
                    message = proto.parse(got[1])
                    key = message.api_key if isinstance(message, proto.Auth) else ""
            if not key:
                await self._fail(
                    proto.ProtocolError(
                        "unauthorized", "send `Authorization: Bearer <api key>` or an auth message first", fatal=True
                    )
                )
                return None
        info = await self._key_resolver.resolve(key.strip())
        if info is None:  # counted against the address like an HTTP request's: a socket is no way around the limit
            limits: AuthLimits = app_state(self._socket.scope).auth_limits
            invalid = ApiError(401, "invalid_api_key", "the API key is not valid")
            refused = refusal(limits, limits.address(self._socket.scope), invalid)
            await self._fail(proto.ProtocolError(refused.code, refused.detail, fatal=True))
            return None
        if info.scope == "read":  # a live session writes a recording
            await self._fail(proto.ProtocolError("insufficient_scope", "a read key may not do this", fatal=True))
            return None
        tenant = info.tenant
        structlog.contextvars.bind_contextvars(tenant=tenant)
        try:
            self._slot = self._quotas.live_sessions.acquire(tenant)
        except DomainError as err:
            await self._fail(proto.ProtocolError(err.code, err.message, fatal=True), TRY_AGAIN_LATER)
            return None
        return info

    async def _open(self, tenant: str) -> bool:
        """Waits for `start` or `resume`; anything else gets an error and the socket keeps waiting."""
        while True:
            got = await self._next(self._settings.live_inactivity_timeout_s)
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
                await self._fail(err)

    async def _start(self, tenant: str, start: proto.Start) -> bool:
        try:  # refused here, never discovered later by a worker that cannot load it
            model = self._catalog.check(start.model)
        except DomainError as err:
            raise proto.ProtocolError(err.code, err.message) from None
        self.session_id = new_id()
        options = TranscriptionOptions(model=model, language=start.language and start.language.lower())
        spec = LiveSessionSpec(
            tenant_id=tenant,
            job_id=new_id(),
            sample_rate=start.sample_rate,
            encoding=start.encoding,
            options=options,
            traceparent=current_traceparent(),
        )
        self._subscriptions = await self._bus.follow(self.session_id, self._out)
        await self._bus.register(self.session_id, spec)
        if not await self._admitted():
            await self._bus.unregister(self.session_id)
            busy = proto.ProtocolError("no_live_capacity", "every live worker is busy; try again shortly", fatal=True)
            await self._fail(busy, TRY_AGAIN_LATER)
            return False
        self._spec = spec
        log.info("live.session_started", session_id=self.session_id)
        ready = {"type": "ready", "session_id": self.session_id, "job_id": spec.job_id, "received_s": 0.0}
        try:
            await self._send({**ready, "event_seq": self._started_seq})
        except WebSocketDisconnect:
            # Gone before it learned the session's id, the client cannot resume it: the worker is freed now.
            await self._bus.publish_end(self.session_id, 0, "inactivity")
            raise
        self._sender = asyncio.create_task(self._forward())
        return True

    async def _admitted(self) -> bool:
        """True once a worker has claimed the session (its LiveSessionStarted arrived) within the admission wait."""
        deadline = time.monotonic() + self._settings.live_admission_timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = await asyncio.wait_for(self._out.get(), left)
            except TimeoutError:
                return False
            if isinstance(item, tuple) and isinstance(item[1], ev.LiveSessionStarted):
                self._started_seq = item[0]
                return True
        return False

    async def _resume(self, tenant: str, resume: proto.Resume) -> bool:
        spec = await self._bus.spec(resume.session_id)
        if spec is None or spec.tenant_id != tenant:
            raise proto.ProtocolError("session_not_found", "no open live session with this id")
        self.session_id, self._spec, self._last_final = resume.session_id, spec, resume.after_index
        self._offset = await self._bus.received_bytes(self.session_id)
        self._subscriptions = await self._bus.follow(self.session_id, self._out)
        received_s = proto.seconds(self._offset, spec.encoding, spec.sample_rate)
        log.info("live.session_resumed", session_id=self.session_id, received_s=received_s)
        await self._send(
            {"type": "ready", "session_id": self.session_id, "job_id": spec.job_id, "received_s": received_s}
        )
        self._sender = asyncio.create_task(self._forward())
        return True

    async def _relay_audio(self) -> str | None:
        """Audio frames to JetStream until stop, inactivity or the length limit; None if the client left."""
        (session_id, spec), settings = self._session, self._settings
        pacer = proto.Pacer(time.monotonic(), settings.live_burst_s)
        warned = False
        while True:
            got = await self._next(settings.live_inactivity_timeout_s)
            if got is TIMED_OUT:
                return "inactivity"
            if got is None:
                return None
            kind, data = got
            try:
                if kind == "text":
                    if isinstance(proto.parse(data), proto.Stop):
                        return "stopped"
                    raise proto.ProtocolError(
                        "unexpected_message", "during a session only audio and `stop` are expected"
                    )
                proto.check_frame(data, spec.encoding)
            except proto.ProtocolError as err:
                await self._fail(err)  # the frame or message is refused, the session goes on
                continue
            frame_s = proto.seconds(len(data), spec.encoding, spec.sample_rate)
            if proto.seconds(self._offset, spec.encoding, spec.sample_rate) + frame_s > settings.live_max_session_s:
                await self._send(
                    proto.error(
                        "session_too_long", f"a live session lasts at most {settings.live_max_session_s:.0f} s", True
                    )
                )
                return "max_duration"
            await self._bus.publish_audio(session_id, self._offset, data)
            self._offset += len(data)
            if (wait_s := pacer.add(frame_s, time.monotonic())) > 0:
                if not warned:
                    await self._send(
                        proto.error(
                            "sending_too_fast", "audio arrives faster than real time: reading is paused to keep pace"
                        )
                    )
                    warned = True
                await asyncio.sleep(wait_s)  # not reading pushes back on the client through TCP; nothing is dropped

    async def _forward(self) -> None:
        """Interims, finals (each once, in order) and the end, from the worker's output to the client."""
        try:
            await self._forward_until_ended()
        except WebSocketDisconnect:
            pass  # the client is gone: the session stays open to be resumed
        finally:
            self._ended.set()  # nothing more will reach this client

    async def _forward_until_ended(self) -> None:
        while True:
            item = await self._out.get()
            match item[1] if isinstance(item, tuple) else item:
                case LiveInterim(index=index) if index > self._last_final:
                    await self._send({"type": "interim", **msgspec.to_builtins(item)})
                case ev.SegmentsTranscribed(job_id=job_id, segments=segments) if job_id == self._session[1].job_id:
                    for segment in segments:
                        if segment.index > self._last_final:
                            await self._send(proto.final(segment))
                            self._last_final = segment.index
                case ev.TranscriptionFailed(job_id=job_id, error_code=code, message=message) if (
                    job_id == self._session[1].job_id
                ):
                    await self._send(proto.error(code, message, fatal=True))  # the worker could not serve it
                case ev.LiveSessionEnded(reason=reason, duration_s=duration_s, stats=stats):
                    ended = {"type": "ended", "session_id": self.session_id, "recording_id": self.session_id}
                    await self._send(
                        {**ended, "reason": reason, "duration_s": duration_s, "stats": msgspec.to_builtins(stats)}
                    )
                    # Ended by the worker too (held too long, too little audio): the socket goes with the session.
                    await self.close(*((INTERNAL_ERROR, "session_failed") if reason == "failed" else (1000, reason)))
                    return
