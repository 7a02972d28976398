"""Read-your-writes: a read given `?min_seq=` waits briefly until the projections have caught up.

`min_seq` takes either an event's stream sequence (the `id:` of an SSE event) or
the consistency token of a 202 (`X-Consistency-Token`: the id of the command it
published). A token is satisfied once the events its command led to are projected.
If the projections have not caught up in time, the response says so in
`X-Read-Model-Stale` instead of silently serving stale data.
"""

import asyncio
import time

from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from voxledger.contracts.ids import is_valid_id
from voxledger.gateway.domain.problems import ApiError

STALE_HEADER = "X-Read-Model-Stale"
TOKEN_HEADER = "X-Consistency-Token"
POLL_S = 0.005


def issue_token(request: Request, command_id: str) -> None:
    """The 202 for this request carries the command's id as its consistency token."""
    request.state.consistency_token = command_id


async def wait_for_projection(request: Request) -> None:
    raw = request.query_params.get("min_seq")
    if raw is None or request.method != "GET":
        return
    if not (raw.isdigit() or is_valid_id(raw)):
        raise ApiError(400, "invalid_min_seq", "min_seq must be an event sequence number or a consistency token")
    readmodels = request.app.state.readmodels
    deadline = time.monotonic() + request.app.state.settings.consistency_wait_s
    wanted = int(raw) if raw.isdigit() else await _token_seq(request, raw.lower(), deadline)
    while wanted is None or await readmodels.projected_seq() < wanted:
        if time.monotonic() > deadline:
            request.state.stale = True
            return
        await asyncio.sleep(POLL_S)


async def _token_seq(request: Request, command_id: str, deadline: float) -> int | None:
    """The stream head once the command's first effect is projected: by then its other events are appended."""
    readmodels = request.app.state.readmodels
    while await readmodels.command_effect(command_id) is None:
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(POLL_S)
    return await request.app.state.bus.events_head()


def consistency_headers(app: ASGIApp) -> ASGIApp:
    """Adds the consistency token to 202s, and the stale marker to reads whose `min_seq` wait timed out."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = scope.get("state", {})
                headers = list(message.get("headers", []))
                if state.get("stale"):
                    headers.append((STALE_HEADER.lower().encode(), b"true"))
                if state.get("consistency_token"):
                    headers.append((TOKEN_HEADER.lower().encode(), state["consistency_token"].encode()))
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_marked if scope["type"] == "http" else send)

    return middleware
