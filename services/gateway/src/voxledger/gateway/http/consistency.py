"""Read-your-writes: a read given `?min_seq=` waits briefly until the projections have caught up.

`min_seq` takes either an event's stream sequence (the `id:` of an SSE event) or
the consistency token of a 202 (`X-Consistency-Token`: the id of the command it
published). A token is satisfied once the events its command led to are projected.
If the projections have not caught up in time, the response says so in
`X-Read-Model-Stale` instead of silently serving stale data.

Waiting costs no query loop per request: one `ProjectionNotifier` per gateway process follows
the projector's progress (LISTEN on its checkpoint notifications, plus a slow poll so a lost
notification never stalls a waiter) and wakes the waiters when the projected sequence advances.
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import asyncpg
import nats.errors
import structlog
from litestar import Request
from litestar.datastructures import State
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from voxledger.contracts.readmodels import NOTIFY_CHANNEL, is_live_checkpoint
from voxledger.gateway.adapters.bus import could_be_command_id
from voxledger.gateway.domain.validation import is_canonical_id, parse_seq
from voxledger.gateway.http.state import app_state

log = structlog.get_logger(__name__)
STALE_HEADER = "X-Read-Model-Stale"
TOKEN_HEADER = "X-Consistency-Token"
CHECKPOINTS = "SELECT name, last_seq FROM projection_checkpoints"


class ProjectionNotifier:
    """The projected sequence of this process's view of the read models, and a way to wait for it to advance."""

    def __init__(self, dsn: str, poll_s: float = 0.25):
        self._dsn = dsn
        self._poll_s = poll_s
        self._checkpoints: dict[str, int] = {}
        self._changed = asyncio.Event()  # set and replaced on every advance: wakes every waiter at once
        self._task: asyncio.Task | None = None
        self.version = 0  # bumped on every advance: a waiter rechecks what it waits for only then

    @property
    def projected_seq(self) -> int:
        live = [seq for name, seq in self._checkpoints.items() if is_live_checkpoint(name)]
        return min(live) if live else 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="projection-notifier")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait_changed(self, seen_version: int, timeout_s: float) -> bool:
        """Until the projected sequence advances past what the caller saw; False at the timeout."""
        if self.version != seen_version:
            return True
        if timeout_s <= 0:
            return False
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout_s)
        except TimeoutError:
            return self.version != seen_version
        return True

    async def wait_for_seq(self, wanted: int, deadline: float) -> bool:
        while self.projected_seq < wanted:
            if not await self.wait_changed(self.version, deadline - time.monotonic()):
                return self.projected_seq >= wanted
        return True

    async def _run(self) -> None:
        """Listens and polls on one dedicated connection; a lost connection is reopened with backoff."""
        backoff_s = 0.1
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self._dsn)
                await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
                backoff_s = 0.1
                while not conn.is_closed():
                    self._apply(dict(await conn.fetch(CHECKPOINTS)), replace=True)
                    await asyncio.sleep(self._poll_s)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # Postgres down or restarting: waiters fall back to their deadline
                log.warning("consistency.notifier_reconnecting", error=repr(err), in_s=backoff_s)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=1)
            await asyncio.sleep(backoff_s)
            backoff_s = min(backoff_s * 2, 1.0)  # waiters meanwhile fall back to their deadline

    def _on_notify(self, _conn, _pid, _channel, payload: str) -> None:
        name, _, seq = payload.rpartition(":")
        if name and seq.isascii() and seq.isdigit():
            self._apply({name: int(seq)}, replace=False)

    def _apply(self, checkpoints: dict[str, int], *, replace: bool) -> None:
        """A poll is the truth (a rebuild may move a checkpoint back); a notification only moves one forward."""
        before = self.projected_seq
        if replace:
            self._checkpoints = dict(checkpoints)
        else:
            for name, seq in checkpoints.items():
                self._checkpoints[name] = max(seq, self._checkpoints.get(name, 0))
        if self.projected_seq != before or not self.version:
            self.version += 1
            self._changed.set()
            self._changed = asyncio.Event()


def issue_token(request: Request, command_id: str) -> None:
    """The 202 for this request carries the command's id as its consistency token."""
    request.state.consistency_token = command_id


async def wait_for_projection(request: Request) -> None:
    """A `before_request` hook; authentication (a middleware) has already run, so no anonymous request waits."""
    raw = request.query_params.get("min_seq")
    if raw is None or request.method != "GET":
        return
    state = app_state(request.scope)
    deadline = time.monotonic() + state.settings.consistency_wait_s
    if is_canonical_id(raw):
        # A token is a command's id; an id that cannot be one names no write, so no wait can satisfy it.
        tenant = request.scope["state"].get("tenant")  # none on the routes outside /v1: no write of theirs
        if tenant is None or not could_be_command_id(raw):
            wanted = None
        else:
            wanted = await _token_seq(state, tenant, raw.lower(), deadline)
    else:
        wanted = parse_seq(raw, "min_seq", "invalid_min_seq")
        if await _past_the_head(state, wanted):
            wanted = None  # no write has this sequence yet, so no wait can satisfy it: stale at once
    if wanted is None or not await state.notifier.wait_for_seq(wanted, deadline):
        request.state.stale = True


async def _past_the_head(state: State, seq: int) -> bool:
    """A sequence beyond the log's head names no write (every token and SSE id is one already made). Looked up
    only where the projections are behind `seq`; with NATS away, the read waits as it would have."""
    if seq <= state.notifier.projected_seq:
        return False
    try:
        return seq > await state.bus.events_head()
    except nats.errors.Error:
        return False


async def when_advanced(notifier: ProjectionNotifier, check: Callable[[], Awaitable], deadline: float):
    """`check()`'s first result that is not None, rechecked only when the projections advance; None at the deadline."""
    while True:
        seen = notifier.version
        if (found := await check()) is not None:
            return found
        if not await notifier.wait_changed(seen, deadline - time.monotonic()):
            return None


async def _token_seq(state: State, tenant: str, command_id: str, deadline: float) -> int | None:
    """The stream head once the command's effect is projected: the projector records it at the last event
    of the command's append, so by then every event the command led to is in the log. Only the tenant's own
    commands count: another tenant's token waits out the deadline like one that names no write, so the
    answer never tells whether that write happened."""
    effect = await when_advanced(
        state.notifier, lambda: state.readmodels.ops.command_effect(tenant, command_id), deadline
    )
    return None if effect is None else await state.bus.events_head()


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
