"""The retention scheduler: one gateway at a time (a lease) sends DeleteRecording for every recording older
than its tenant's retention. A delete goes through the log like DELETE's, so it erases the same way; the
dedup key is DELETE's too, so a recording deleted by hand meanwhile is not deleted twice."""

import asyncio
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import structlog

from voxledger.contracts.commands import DeleteRecording
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.adapters.retention import retention_settings
from voxledger.gateway.settings import GatewaySettings
from voxledger.runtime.leadership import Leadership, run_as_leader
from voxledger.runtime.lifecycle import sleep_unless, worker_name

log = structlog.get_logger(__name__)
LEASE_KEY = "retention"
SWEEP_LIMIT = 500  # recordings per tenant per sweep; the next sweep takes the rest


class RetentionScheduler:
    def __init__(self, settings: GatewaySettings, bus: Bus, readmodels: ReadModels):
        self._settings, self._bus, self._readmodels = settings, bus, readmodels
        self._holder = worker_name("gateway-retention")

    async def run(self, stop: asyncio.Event) -> None:
        every_s = self._settings.retention_check_s
        leadership = Leadership("retention", LEASE_KEY, self._holder, max(every_s * 3, 5.0), every_s)
        await run_as_leader(self._bus.js, leadership, self._sweep_until, stop, _sweep_failed)

    async def _sweep_until(self, halt: asyncio.Event) -> None:
        while not halt.is_set():
            await self.sweep()
            await sleep_unless(halt, self._settings.retention_check_s)

    async def sweep(self, tenants: Collection[str] | None = None) -> int:
        """Sends the deletes that are due now (of `tenants` only, if given); returns how many."""
        now, sent = datetime.now(UTC), 0
        for tenant, days in (await retention_settings(self._bus.js)).items():
            if tenants is not None and tenant not in tenants:
                continue
            cutoff = now - timedelta(seconds=days * self._settings.retention_day_s)
            for rid in await self._readmodels.recordings.created_before(tenant, cutoff, SWEEP_LIMIT):
                command = DeleteRecording(recording_id=rid)
                await self._bus.send(command, aggregate_id=rid, tenant=tenant, dedup_key=f"delete:{rid}")
                sent += 1
        if sent:
            log.info("retention.deletes_sent", count=sent)
        return sent


def _sweep_failed() -> None:
    log.exception("retention.sweep_failed")
