"""Ends what a credential holds open (an SSE stream, a live socket, a long wait) once the credential ends.

A key checked when a stream opened would otherwise go on serving it for as long as the client keeps it open.
Every authenticated request and live socket runs in a task of its own (`Guard`) that is held under its key id;
the revocation follower (`KeyResolver`) calls `OpenCredentials.end_at` as each `ApiKeyRevoked` arrives, and a
key's expiry is a timer: either way the task is cancelled at that time, and its caller answers for the end.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

KEY_REVOKED, KEY_EXPIRED = "key_revoked", "key_expired"
RECANCEL_S = 0.25  # long enough for the work's own cleanup (an unsubscribe) to finish first


class Held:
    """One thing held open under a credential; `on_end(reason)` runs once, at the earliest end scheduled."""

    def __init__(self, key_id: str, on_end: Callable[[str], None]):
        self.key_id, self._on_end = key_id, on_end
        self._at: datetime | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.ended = False

    def end_at(self, at: datetime, reason: str) -> None:
        if self.ended or (self._at is not None and self._at <= at):
            return
        self._at = at
        if self._timer is not None:
            self._timer.cancel()
        delay_s = (at - datetime.now(UTC)).total_seconds()
        self._timer = asyncio.get_running_loop().call_later(max(0.0, delay_s), self._end, reason)

    def _end(self, reason: str) -> None:
        if not self.ended:
            self.ended = True
            self._on_end(reason)

    def cancel(self) -> None:
        self.ended = True
        if self._timer is not None:
            self._timer.cancel()


class OpenCredentials:
    """What each credential (an API key id) holds open in this gateway, to end it with the credential."""

    def __init__(self) -> None:
        self._held: dict[str, set[Held]] = {}

    def hold(self, key_id: str, expires_at: datetime | None, on_end: Callable[[str], None]) -> Held:
        held = Held(key_id, on_end)
        self._held.setdefault(key_id, set()).add(held)
        if expires_at is not None:
            held.end_at(expires_at, KEY_EXPIRED)
        return held

    def release(self, held: Held) -> None:
        held.cancel()
        others = self._held.get(held.key_id)
        if others is not None:
            others.discard(held)
            if not others:
                del self._held[held.key_id]

    def end_at(self, key_id: str, at: datetime) -> None:
        """The key is revoked from `at` (now, or the end of a rotation's overlap): what it holds ends then."""
        for held in list(self._held.get(key_id, ())):
            held.end_at(at, KEY_REVOKED)

    def __len__(self) -> int:
        return sum(len(held) for held in self._held.values())


class Guard:
    """Runs work in a task of its own, cancelled when a credential it holds ends; `ended_by` says which end."""

    def __init__(self, credentials: OpenCredentials):
        self._credentials = credentials
        self._held: list[Held] = []
        self._task: asyncio.Future[None] | None = None
        self.ended_by: str | None = None

    def hold(self, key_id: str, expires_at: datetime | None, revoked_at: datetime | None = None) -> None:
        held = self._credentials.hold(key_id, expires_at, self._end)
        if revoked_at is not None:  # a rotated key: revoked at the end of its overlap
            held.end_at(revoked_at, KEY_REVOKED)
        self._held.append(held)

    def _end(self, reason: str) -> None:
        if self.ended_by is None:
            self.ended_by = reason
            self._cancel_until_done()

    def _cancel_until_done(self) -> None:
        """Cancels the work again while it runs: some libraries swallow a cancellation (nats-py's flush does)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            asyncio.get_running_loop().call_later(RECANCEL_S, self._cancel_until_done)

    async def run(self, work: Awaitable[None]) -> str | None:
        """Awaits `work`; None once it is done, or the reason it was cut short by its credential's end.

        Cancelling the caller cancels the work too, and is passed on as usual."""
        self._task = asyncio.ensure_future(work)
        if self.ended_by is not None:
            self._cancel_until_done()
        try:
            await self._task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self.ended_by is None or (current is not None and current.cancelling()):
                raise
        finally:
            for held in self._held:
                self._credentials.release(held)
        return self.ended_by
