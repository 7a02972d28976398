"""Per-tenant quotas: a clear 429 with `Retry-After` and a code instead of a slow death by one tenant.

Open SSE streams and live sessions are counted in memory, per gateway process (they live in this
process anyway), and so are uploads in flight and the rates of costly actions (webhook tests and redeliveries). Queued jobs,
insight runs in flight, webhook endpoints and storage (stored audio, and the tenant's events in the log, which the
projector counts as it applies them) come from small indexed read-model queries, so they hold across gateways.
"""

import asyncio
import contextlib
import math
import time
import weakref
from collections import Counter, defaultdict
from collections.abc import AsyncIterator

import structlog

from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.domain.errors import QuotaExceeded
from voxledger.gateway.domain.keys import FailureLimiter
from voxledger.gateway.settings import GatewaySettings
from voxledger.runtime.db import DATABASE_UNAVAILABLE_ERRORS

log = structlog.get_logger(__name__)


class Slot:
    """One held unit of an in-memory quota; `release` is idempotent."""

    def __init__(self, counter: "ConcurrencyQuota", tenant: str):
        self._counter, self._tenant, self._held = counter, tenant, True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._counter.release(self._tenant)

    def bind(self, owner: object) -> "Slot":
        """Also released when `owner` (e.g. a response stream that never started) is garbage collected."""
        weakref.finalize(owner, self.release)
        return self


class ConcurrencyQuota:
    def __init__(self, name: str, limit: int, retry_after_s: int):
        self.name, self.limit, self.retry_after_s = name, limit, retry_after_s
        self._held: Counter[str] = Counter()

    def acquire(self, tenant: str) -> Slot:
        if self._held[tenant] >= self.limit:
            raise QuotaExceeded(self.name, self.limit, self.retry_after_s)
        self._held[tenant] += 1
        return Slot(self, tenant)

    def release(self, tenant: str) -> None:
        self._held[tenant] -= 1
        if self._held[tenant] <= 0:
            del self._held[tenant]

    def held(self, tenant: str) -> int:
        return self._held[tenant]

    def total(self) -> int:
        return sum(self._held.values())


class RateQuota:
    """At most `per_minute` actions per tenant in fixed one-minute windows, counted in this process."""

    def __init__(self, name: str, per_minute: int):
        self.name, self.limit = name, per_minute
        self._windows = FailureLimiter(per_minute)  # counts any event per key, failures or not

    def take(self, tenant: str) -> None:
        now = time.monotonic()
        if (wait := self._windows.retry_after(tenant, now)) is not None:
            raise QuotaExceeded(self.name, self.limit, max(1, math.ceil(wait)))
        self._windows.failed(tenant, now)


class Quotas:
    def __init__(self, settings: GatewaySettings, readmodels: ReadModels):
        retry = settings.quota_retry_after_s
        self.sse_streams = ConcurrencyQuota("sse_streams", settings.max_sse_streams_per_tenant, retry)
        self.live_sessions = ConcurrencyQuota("live_sessions", settings.max_live_sessions_per_tenant, retry)
        self.uploads = ConcurrencyQuota("uploads_in_flight", settings.max_uploads_in_flight_per_tenant, retry)
        self.webhook_sends = RateQuota("webhook_sends_per_minute", settings.max_webhook_sends_per_minute)
        self._settings = settings
        self._readmodels = readmodels
        self._event_log_mb = tenant_limits(settings.tenant_event_log_mb)
        self._creating: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @contextlib.asynccontextmanager
    async def webhook_creation(self, tenant: str) -> AsyncIterator[None]:
        """One create at a time per tenant in this process, checked against the count the read model shows;
        the caller waits inside until its endpoint is projected, so a burst of creates cannot slip past."""
        async with self._creating[tenant]:
            await self._check(
                "webhook_endpoints",
                self._settings.max_webhooks_per_tenant,
                self._readmodels.usage.webhook_count,
                tenant,
            )
            yield

    async def check_queued_jobs(self, tenant: str) -> None:
        await self._check(
            "queued_jobs", self._settings.max_queued_jobs_per_tenant, self._readmodels.usage.active_job_count, tenant
        )

    async def check_storage(self, tenant: str, adding_bytes: int) -> None:
        """The tenant's stored audio (as the read model shows it) with this upload stays within its quota."""
        limit_mb = self._settings.max_storage_mb_per_tenant

        async def used_mb(tenant: str) -> float:
            return (await self._readmodels.usage.stored_bytes(tenant) + adding_bytes) / 2**20

        await self._check("storage_mb", limit_mb, used_mb, tenant)  # reaching the limit exactly counts as over
        await self.check_event_log(tenant)

    async def check_event_log(self, tenant: str) -> None:
        """New work appends events, which the log keeps for good: none once the tenant's share is used up."""
        limit_mb = self._event_log_mb.get(tenant, self._settings.max_event_log_mb_per_tenant)

        async def used_mb(tenant: str) -> float:
            return await self._readmodels.usage.event_log_bytes(tenant) / 2**20

        await self._check("event_log_mb", limit_mb, used_mb, tenant)

    async def check_insight_runs(self, tenant: str) -> None:
        limit = self._settings.max_insight_runs_per_tenant
        await self._check("insight_runs", limit, self._readmodels.usage.insight_runs_in_flight, tenant)

    async def _check(self, quota: str, limit: float, count, tenant: str) -> None:
        try:
            used = await count(tenant)
        except DATABASE_UNAVAILABLE_ERRORS as err:
            # Writes need only the log: during a Postgres outage a command is still accepted, uncounted.
            log.warning("quota.unchecked_database_unavailable", quota=quota, error=repr(err))
            return
        if used >= limit:
            raise QuotaExceeded(quota, limit, self._settings.quota_retry_after_s)


def tenant_limits(raw: str) -> dict[str, float]:
    """`tenant=number,...` (a setting, checked by its pattern) as {tenant: number}."""
    pairs = (entry.partition("=") for entry in raw.split(",") if entry)
    return {tenant: float(number) for tenant, _, number in pairs}
