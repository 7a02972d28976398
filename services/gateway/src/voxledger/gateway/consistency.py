"""Read-your-writes: a read given `?min_seq=N` waits briefly until the projections have passed event N.

If they have not caught up in time, the response says so in `X-Read-Model-Stale`
instead of silently serving stale data.
"""

import asyncio
import time

from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from voxledger.gateway.domain.problems import ApiError

STALE_HEADER = "X-Read-Model-Stale"


async def wait_for_projection(request: Request) -> None:
    raw = request.query_params.get("min_seq")
    if raw is None or request.method != "GET":
        return
    if not raw.isdigit():
        raise ApiError(400, "invalid_min_seq", "min_seq must be an event sequence number")
    wanted = int(raw)
    readmodels = request.app.state.readmodels
    deadline = time.monotonic() + request.app.state.settings.consistency_wait_s
    while await readmodels.projected_seq() < wanted:
        if time.monotonic() > deadline:
            request.state.stale = True
            return
        await asyncio.sleep(0.01)


def mark_stale(app: ASGIApp) -> ASGIApp:
    """Adds the stale header to responses whose `min_seq` wait timed out."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get("state", {}).get("stale"):
                message["headers"] = [*message.get("headers", []), (STALE_HEADER.lower().encode(), b"true")]
            await send(message)

        await app(scope, receive, send_marked if scope["type"] == "http" else send)

    return middleware
