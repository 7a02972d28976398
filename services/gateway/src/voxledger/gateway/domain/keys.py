"""API keys, pure: what a key's scope allows, when a key is usable, and the per-address limit on failed logins."""

from collections import OrderedDict
from datetime import datetime

import msgspec

from voxledger.contracts.events import KeyScope

# Each scope may do what the ones before it may: `read` only reads, `member` uses the API, `admin` also manages
# keys, webhooks and tenant settings. Each route names the least it needs (its `opt["scope"]`).
SCOPE_ORDER: tuple[KeyScope, ...] = ("read", "member", "admin")


class KeyInfo(msgspec.Struct, frozen=True, kw_only=True):
    key_id: str
    tenant: str
    scope: KeyScope
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


def usable(info: KeyInfo, now: datetime, revoked_at: datetime | None = None) -> bool:
    """Neither expired nor revoked (by the read model's time or a gateway's own from the event stream)."""
    ends = [t for t in (info.expires_at, info.revoked_at, revoked_at) if t is not None]
    return all(now < t for t in ends)


def covers(held: KeyScope, needed: KeyScope) -> bool:
    """Whether a key of scope `held` may use a route that needs `needed`."""
    return SCOPE_ORDER.index(held) >= SCOPE_ORDER.index(needed)


class FailureLimiter:
    """Failed authentications per client address in fixed windows; beyond `limit` the address waits.

    Memory is bounded: at most `max_addresses` are tracked, the least recently failing dropped first.
    """

    def __init__(self, limit: int, window_s: float = 60.0, max_addresses: int = 10_000):
        self._limit, self._window_s, self._max = limit, window_s, max_addresses
        self._windows: OrderedDict[str, tuple[float, int]] = OrderedDict()  # address -> (window start, failures)

    def retry_after(self, address: str, now: float) -> float | None:
        """Seconds until the address may try again, or None while it is under the limit."""
        start, failures = self._windows.get(address, (now, 0))
        if failures < self._limit or now >= start + self._window_s:
            return None
        return start + self._window_s - now

    def failed(self, address: str, now: float) -> None:
        start, failures = self._windows.pop(address, (now, 0))
        if now >= start + self._window_s:
            start, failures = now, 0
        self._windows[address] = (start, failures + 1)
        while len(self._windows) > self._max:
            self._windows.popitem(last=False)

    def __len__(self) -> int:
        return len(self._windows)


class UseThrottle:
    """At most one last-use report per key per `every_s`; bounded like FailureLimiter."""

    def __init__(self, every_s: float = 60.0, max_keys: int = 100_000):
        self._every_s, self._max = every_s, max_keys
        self._last: OrderedDict[str, float] = OrderedDict()

    def due(self, key_id: str, now: float) -> bool:
        last = self._last.get(key_id)
        if last is not None and now < last + self._every_s:
            return False
        self._last.pop(key_id, None)
        self._last[key_id] = now
        while len(self._last) > self._max:
            self._last.popitem(last=False)
        return True
