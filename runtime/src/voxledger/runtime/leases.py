"""Leases in the shared KV bucket: at most one holder per key at a time.

A lease is a key whose value names its holder. It expires by a per-key TTL
unless the holder renews it, so a dead or paused holder loses it on its own.
Renewal is a compare-and-set on the key's revision: a holder that was paused
past its TTL finds the key re-created by someone else and learns it lost the
lease instead of overwriting it.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import nats.js.errors
from nats.js import JetStreamContext
from nats.js.api import Header
from nats.js.kv import KeyValue

from voxledger.contracts import streams
from voxledger.runtime.broker import BROKER_PATIENCE_S, with_broker_retry
from voxledger.runtime.eventstore import WRONG_LAST_SEQUENCE
from voxledger.runtime.logging import get_logger

log = get_logger(__name__)

WRONG_LAST_SEQUENCE_CONSTANT = 10164


class LeaseLost(Exception):
    """Someone else holds the lease now: stop writing on its behalf."""


class Lease:
    def __init__(self, js: JetStreamContext, key: str, holder: str, ttl_s: float, revision: int):
        self._js = js
        self.key = key
        self.holder = holder
        self.ttl_s = ttl_s
        self.revision = revision

    @classmethod
    async def acquire(cls, js: JetStreamContext, key: str, holder: str, ttl_s: float) -> "Lease | None":
        """The lease, or None while another holder's lease is still live. Rides out a broker outage (a NATS
        node lost, the bucket's leader being elected again) like any other call; a create that landed but
        whose answer was lost reads as held by another, which is safe: it is ours again once it expires."""
        return await with_broker_retry(lambda: cls._acquire(js, key, holder, ttl_s), f"lease {key}", BROKER_PATIENCE_S)

    @classmethod
    async def _acquire(cls, js: JetStreamContext, key: str, holder: str, ttl_s: float) -> "Lease | None":
        kv = await _bucket(js)
        for _ in range(3):
            try:
                revision = await kv.create(key, holder.encode(), msg_ttl=ttl_s)
            except nats.js.errors.KeyWrongLastSequenceError:
                return None
            except nats.js.errors.KeyNotFoundError:
                # create() found the key, then it expired before create() could read it back:
                # the lease is free this very moment, so try again rather than fail the caller.
                continue
            return cls(js, key, holder, ttl_s, revision)
        return None  # it keeps changing hands: not ours now; callers poll again anyway

    async def renew(self) -> None:
        """Extends the lease by its TTL; raises LeaseLost if it expired and was taken meanwhile."""
        headers = {Header.EXPECTED_LAST_SUBJECT_SEQUENCE.value: str(self.revision)}
        try:
            ack = await self._js.publish(_subject(self.key), self.holder.encode(), headers=headers, msg_ttl=self.ttl_s)
        except nats.js.errors.APIError as err:
            if err.err_code in (WRONG_LAST_SEQUENCE, WRONG_LAST_SEQUENCE_CONSTANT):
                raise LeaseLost(f"lease {self.key} is no longer held by {self.holder}") from err
            raise
        self.revision = ack.seq

    @contextlib.asynccontextmanager
    async def held(
        self, every_s: float | None = None, lost: asyncio.Event | None = None
    ) -> AsyncIterator[asyncio.Event]:
        """Renews the lease in the background while the block runs (by default five times per TTL) and
        yields an event (`lost`, if given) that is set once the lease is lost: the block stops writing
        on its behalf then."""
        lost = lost or asyncio.Event()
        renewing = asyncio.create_task(self.keep(lost, every_s or self.ttl_s / 5))
        try:
            yield lost
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def keep(self, lost: asyncio.Event, every_s: float) -> None:
        """Renews every `every_s` until cancelled. Sets `lost` when another holder has the lease, or when
        the broker has been unreachable so long that the lease may have run out."""
        renewed_at = time.monotonic()
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.renew()
                renewed_at = time.monotonic()
            except LeaseLost:
                log.warning("lease.lost", key=self.key, holder=self.holder)
                lost.set()
                return
            except Exception as err:
                log.warning("lease.renew_failed", key=self.key, error=str(err))
                if time.monotonic() - renewed_at > self.ttl_s:
                    lost.set()
                    return

    async def release(self) -> None:
        """Frees the lease at once for the next holder; a lease already lost is left alone."""
        kv = await _bucket(self._js)
        with contextlib.suppress(nats.js.errors.KeyWrongLastSequenceError):
            await kv.delete(self.key, last=self.revision)


async def _bucket(js: JetStreamContext) -> KeyValue:
    return await js.key_value(streams.LEASES_BUCKET)


def _subject(key: str) -> str:
    return f"$KV.{streams.LEASES_BUCKET}.{key}"
