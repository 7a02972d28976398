"""The live socket as a channel: one reader, writers serialized by a lock, closed once.

The socket is closed once: by the handler, or by the server itself (a message over the size cap, a missed
keepalive) possibly while a reply is being written. Whichever comes first, later sends and closes are no-ops.
"""

import asyncio
import contextlib
from collections.abc import Callable

import msgspec
import structlog
from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from voxledger.gateway.domain import live_protocol as proto
from voxledger.gateway.domain.errors import DomainError
from voxledger.gateway.domain.keys import KeyInfo
from voxledger.gateway.http.auth import AuthLimits, KeyResolver, refusal
from voxledger.gateway.http.errors import ApiError
from voxledger.gateway.http.quotas import Quotas, Slot
from voxledger.gateway.http.state import app_state

TIMED_OUT = object()
# What sending on a socket that is closed raises: Litestar's WebSocketDisconnect once a disconnect was received,
# an OSError when the transport is gone, and (uvicorn) a RuntimeError when the server already sent a close frame.
SOCKET_GONE = (WebSocketDisconnect, OSError, RuntimeError)
POLICY_VIOLATION, INTERNAL_ERROR, TRY_AGAIN_LATER = 1008, 1011, 1013


class LiveChannel:
    def __init__(self, socket: WebSocket, error_message: Callable[[str, str, bool], dict] = proto.error):
        self.socket = socket
        self._error_message = error_message  # an error as this socket's protocol reads it
        self._send_lock = asyncio.Lock()
        self._closed = False  # a close frame went out (from here or from the server): nothing more is sent

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Sends the close frame unless one went out already; a socket that is gone counts as closed."""
        async with self._send_lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(*SOCKET_GONE):
                await self.socket.close(code, reason)

    async def send(self, message: dict) -> None:
        """One message to the client; WebSocketDisconnect once the socket is closed or the client is gone."""
        async with self._send_lock:
            if self._closed:
                raise WebSocketDisconnect(detail="the socket is closed")
            try:
                await self.socket.send_data(msgspec.json.encode(message).decode())
            except SOCKET_GONE as err:
                self._closed = True
                raise WebSocketDisconnect(detail="the socket is closed") from err

    async def send_error(self, code: str, message: str, fatal: bool = False) -> None:
        await self.send(self._error_message(code, message, fatal))

    async def fail(self, err: proto.ProtocolError, close_code: int = POLICY_VIOLATION) -> None:
        await self.send_error(err.code, err.message, err.fatal)
        if err.fatal:
            await self.close(close_code, err.code)

    async def receive(self, timeout_s: float):
        """("text", str) or ("bytes", bytes); None when the client is gone; TIMED_OUT after `timeout_s` of silence."""
        try:
            message = await asyncio.wait_for(self.socket.receive(), timeout_s)
        except TimeoutError:
            return TIMED_OUT
        if message["type"] != "websocket.receive":
            return None
        if message.get("bytes") is not None:
            return "bytes", message["bytes"]
        return "text", message.get("text") or ""


async def authenticate(
    channel: LiveChannel, timeout_s: float, key_resolver: KeyResolver, quotas: Quotas
) -> tuple[KeyInfo, Slot] | None:
    """The key, from `Authorization: Bearer` (or Deepgram's `Token`) or, for browsers, a first `auth` message; with
    the session's quota slot."""
    scheme, _, key = channel.socket.headers.get("authorization", "").partition(" ")
    if scheme.lower() not in ("bearer", "token") or not key.strip():
        got = await channel.receive(timeout_s)  # an anonymous socket is not held long
        key = ""
        if isinstance(got, tuple) and got[0] == "text":
            with contextlib.suppress(proto.ProtocolError):
                message = proto.parse(got[1])
                key = message.api_key if isinstance(message, proto.Auth) else ""
        if not key:
            await channel.fail(
                proto.ProtocolError(
                    "unauthorized", "send `Authorization: Bearer <api key>` or an auth message first", fatal=True
                )
            )
            return None
    info = await key_resolver.resolve(key.strip())
    if info is None:  # counted against the address like an HTTP request's: a socket is no way around the limit
        limits: AuthLimits = app_state(channel.socket.scope).auth_limits
        invalid = ApiError(401, "invalid_api_key", "the API key is not valid")
        refused = refusal(limits, limits.address(channel.socket.scope), invalid)
        await channel.fail(proto.ProtocolError(refused.code, refused.detail, fatal=True))
        return None
    if info.scope == "read":  # a live session writes a recording
        await channel.fail(proto.ProtocolError("insufficient_scope", "a read key may not do this", fatal=True))
        return None
    tenant = info.tenant
    structlog.contextvars.bind_contextvars(tenant=tenant)
    try:
        slot = quotas.live_sessions.acquire(tenant)
    except DomainError as err:
        await channel.fail(proto.ProtocolError(err.code, err.message, fatal=True), TRY_AGAIN_LATER)
        return None
    return info, slot
