"""A client that trickles its request body cannot hold the gateway: each body chunk must come in time, and
the whole body at a minimum rate.

uvicorn bounds headers (`h11_max_incomplete_event_size`), idle keep-alive connections and the number
of connections, but it has no timeout for reading a request body. This middleware gives each chunk
of a body `body_chunk_timeout_s` (else 408 body_timeout), and the whole body `body_floor_s` plus its size at
`body_min_kib_per_s` (else 408 body_too_slow: a byte every few seconds never stalls a chunk). Once the body
is complete, `receive` is passed through untouched (a streaming response waits on it for the disconnect).
"""

import asyncio
import time

from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from voxledger.gateway.http.errors import ApiError
from voxledger.gateway.http.state import app_state


def body_timeout_guard(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        settings = app_state(scope).settings
        timeout_s, min_rate = settings.body_chunk_timeout_s, settings.body_min_kib_per_s * 1024
        deadline = time.monotonic() + settings.body_floor_s  # moved on by each chunk's bytes at the minimum rate
        body_done = False

        async def timed_receive() -> ReceiveMessage:
            nonlocal body_done, deadline
            if body_done:
                return await receive()
            left = deadline - time.monotonic()
            try:
                message = await asyncio.wait_for(receive(), max(min(timeout_s, left), 0.0))
            except TimeoutError:
                raise _too_slow(settings) if left < timeout_s else _stalled(timeout_s) from None
            if isinstance(body := message.get("body"), bytes):
                deadline += len(body) / min_rate
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await app(scope, timed_receive, send)

    return middleware


def _stalled(timeout_s: float) -> ApiError:
    return ApiError(408, "body_timeout", f"the request body stalled for more than {timeout_s:.0f} s")


def _too_slow(settings) -> ApiError:
    rate, floor = settings.body_min_kib_per_s, settings.body_floor_s
    return ApiError(408, "body_too_slow", f"the request body arrived slower than {rate:.0f} KiB/s after {floor:.0f} s")
