"""A lease in the KV bucket decides which projector instance is active for a projection.

The holder renews its entry well inside the bucket's TTL. When it dies, the entry
expires and a standby's create succeeds. A renewal that finds another holder's
revision means the lease is lost: the old holder stops projecting at once.
"""

import asyncio
import contextlib
import time

import structlog
from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

log = structlog.get_logger(__name__)


class Lease:
    def __init__(self, kv: KeyValue, key: str, holder: str, ttl_s: float):
        self._kv = kv
        self.key = key
        self.holder = holder
        self.ttl_s = ttl_s
        self._revision = 0

    async def acquire(self) -> bool:
        try:
            self._revision = await self._kv.create(self.key, self.holder.encode())
        except KeyWrongLastSequenceError:
            return False  # someone else holds it
        return True

    async def hold(self, lost: asyncio.Event) -> None:
        """Renews every fifth of the TTL until cancelled; sets `lost` when the lease is gone."""
        renewed_at = time.monotonic()
        while True:
            await asyncio.sleep(self.ttl_s / 5)
            try:
                self._revision = await self._kv.update(self.key, self.holder.encode(), last=self._revision)
                renewed_at = time.monotonic()
            except KeyWrongLastSequenceError:
                log.warning("lease.lost", key=self.key, holder=self.holder)
                lost.set()
                return
            except Exception as err:  # the broker is unreachable: still ours until the TTL could have run out
                log.warning("lease.renew_failed", key=self.key, error=str(err))
                if time.monotonic() - renewed_at > self.ttl_s:
                    lost.set()
                    return

    async def release(self) -> None:
        """Hands over at once on a clean stop, instead of after the TTL."""
        with contextlib.suppress(Exception):
            await self._kv.delete(self.key, last=self._revision)
