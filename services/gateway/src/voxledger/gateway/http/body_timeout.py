"""A client that trickles its request body cannot hold the gateway: each body chunk must come in time.

uvicorn bounds headers (`h11_max_incomplete_event_size`), idle keep-alive connections and the number
of connections, but it has no timeout for reading a request body. This middleware gives each chunk
of a body `body_chunk_timeout_s`; a body that stalls longer ends the request with 408. Once the body
is complete, `receive` is passed through untouched (a streaming response waits on it for the disconnect).
"""

import asyncio

from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from voxledger.gateway.http.errors import ApiError
from voxledger.gateway.http.state import app_state


def body_timeout_guard(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        timeout_s = app_state(scope).settings.body_chunk_timeout_s
        body_done = False

        async def timed_receive() -> ReceiveMessage:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout_s)
            except TimeoutError:
                raise ApiError(
                    408, "body_timeout", f"the request body stalled for more than {timeout_s:.0f} s"
                ) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await app(scope, timed_receive, send)

    return middleware
