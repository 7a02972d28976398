"""Claims live sessions through leases and keeps the leases alive while it transcribes.

A session waits in the `live_sessions` bucket; a worker with room takes its lease (refused while
another worker holds it) and renews it well inside the TTL. A worker that dies stops renewing, its
lease expires, and the next scan of any worker with room takes the session over.

One tenant holds at most its share of a worker's slots (`tenant_share`): its further sessions wait (and are
refused `no_live_capacity` at the gateway) while other tenants' sessions still find room.

Nothing is retried forever: a session that fails on this worker `live_max_attempts` times, or that
workers took `live_max_claims` times, ends as failed with a code, and its slot is free again.
"""

import asyncio
import contextlib
import time

import structlog
from nats.aio.client import Client

from voxledger.contracts.decisions import Rejected
from voxledger.contracts.live import lease_key
from voxledger.contracts.streams import LIVE_LEASE_TTL_S
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.broker import BROKER_UNAVAILABLE_ERRORS, BrokerUnavailable
from voxledger.runtime.leases import Lease, LeaseLost
from voxledger.runtime.lifecycle import sleep_unless, worker_id
from voxledger.runtime.vault import Vault
from voxledger.transcriber.adapters.model import ModelCache
from voxledger.transcriber.live.adapters.registry import Registration, SessionRegistry
from voxledger.transcriber.live.domain.session import LiveSession
from voxledger.transcriber.live.handlers import SessionRunner
from voxledger.transcriber.live.settings import LiveSettings

log = structlog.get_logger(__name__)


class LiveWorker:
    def __init__(
        self,
        nc: Client,
        repo: AggregateRepository[LiveSession],
        models: ModelCache,
        settings: LiveSettings,
        vault: Vault,
    ):
        self._nc, self._js, self._repo, self._models, self._settings = nc, nc.jetstream(), repo, models, settings
        self._vault = vault
        self.name = worker_id(settings.worker_name)  # a new process, a new name: a takeover is visible
        self.sessions: dict[str, asyncio.Task] = {}
        self._tenants: dict[str, str] = {}  # held session id -> its tenant
        self._failures: dict[str, tuple[int, float]] = {}  # session id -> (failed holds here, not before)

    async def run(self, stop: asyncio.Event) -> None:
        registry = await SessionRegistry.open(self._js)
        while not stop.is_set():
            try:
                await self._scan(registry)
            except (BrokerUnavailable, *BROKER_UNAVAILABLE_ERRORS) as err:
                # A NATS node lost or a leader being elected: expected in a cluster, and the next scan retries.
                log.warning("live.scan_interrupted", error=type(err).__name__, reason=str(err))
            except Exception:
                log.exception("live.scan_failed")
            await sleep_unless(stop, self._settings.live_scan_interval_s)
        for task in self.sessions.values():
            task.cancel()  # the leases expire and another worker continues after the last final
        await asyncio.gather(*self.sessions.values(), return_exceptions=True)

    async def _scan(self, registry: SessionRegistry) -> None:
        now = time.monotonic()
        session_ids = await registry.session_ids()
        # Failures of sessions that ended elsewhere are forgotten.
        self._failures = {sid: failed for sid, failed in self._failures.items() if sid in session_ids}
        for session_id in session_ids:
            if session_id in self.sessions or self._failures.get(session_id, (0, 0.0))[1] > now:
                continue
            if len(self.sessions) >= self._settings.live_max_sessions:
                return  # full: the session waits for a worker with room
            lease = await Lease.acquire(self._js, lease_key(session_id), self.name, LIVE_LEASE_TTL_S)
            if lease is None:
                continue  # held by a live worker
            registration = await registry.get(session_id)
            if registration is None or self._tenant_full(registration.spec.tenant_id):
                await lease.release()
                continue  # ended meanwhile, or its tenant holds its share here: other tenants' sessions go first
            self._tenants[session_id] = registration.spec.tenant_id
            self.sessions[session_id] = asyncio.create_task(self._hold(registry, registration, lease))

    def _tenant_full(self, tenant: str) -> bool:
        return sum(1 for held_by in self._tenants.values() if held_by == tenant) >= self._settings.tenant_share

    async def _hold(self, registry: SessionRegistry, registration: Registration, lease: Lease) -> None:
        session_id, spec = registration.session_id, registration.spec
        failures = self._failures.get(session_id, (0, 0.0))[0]
        give_up = failures + 1 >= self._settings.live_max_attempts
        runner = SessionRunner(
            self._nc, self._repo, self._models, self._settings, self.name, session_id, spec, self._vault
        )
        with structlog.contextvars.bound_contextvars(
            recording_id=session_id, job_id=spec.job_id, tenant=spec.tenant_id
        ):
            try:
                await self._keep(runner.run(last_try=give_up), registry, registration, lease)
                await self._settled(registry, session_id, lease)
            except LeaseLost:
                log.warning("live.lease_lost")  # it expired and another worker holds the session now
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await lease.release()  # shutting down: hand the session back now, not when the lease expires
            except Rejected as err:
                log.warning("live.session_stopped", code=err.code, reason=err.message)
                if err.code in ("session_ended", "session_not_started"):
                    await self._settled(registry, session_id, lease)
                else:
                    await self._failed(session_id, lease, failures)
            except Exception:
                log.exception("live.session_failed", failures=failures + 1)
                await self._failed(session_id, lease, failures)
            finally:
                self.sessions.pop(session_id, None)
                self._tenants.pop(session_id, None)

    async def _keep(self, work, registry: SessionRegistry, registration: Registration, lease: Lease) -> None:
        """Runs the session while its lease is renewed and its registration refreshed."""
        task = asyncio.create_task(work)
        try:
            async with lease.held(LIVE_LEASE_TTL_S / 4) as lost:
                while not task.done():
                    await asyncio.wait({task}, timeout=LIVE_LEASE_TTL_S / 4)
                    if lost.is_set():
                        raise LeaseLost(f"lease {lease.key} is no longer held by {lease.holder}")
                    if not task.done():
                        await registry.refresh_if_due(registration)
                await task
        finally:
            task.cancel()

    async def _settled(self, registry: SessionRegistry, session_id: str, lease: Lease) -> None:
        self._failures.pop(session_id, None)
        await registry.remove(session_id)
        await lease.release()

    async def _failed(self, session_id: str, lease: Lease, failures: int) -> None:
        """Frees the slot and the lease; this worker tries the session again after a pause (any other at once)."""
        self._failures[session_id] = (failures + 1, time.monotonic() + LIVE_LEASE_TTL_S)
        with contextlib.suppress(Exception):
            await lease.release()
