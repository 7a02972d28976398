"""Claims live sessions through leases and keeps the leases alive while it transcribes.

A session waits in the `live_sessions` bucket; a worker with room takes its lease (refused while
another worker holds it) and renews it well inside the TTL. A worker that dies stops renewing, its
lease expires, and the next scan of any worker with room takes the session over.
"""

import asyncio
import contextlib
import os
import socket

import msgspec
import structlog
from nats.aio.client import Client
from nats.js.errors import NoKeysError
from nats.js.kv import KeyValue

from voxledger.contracts.decisions import Rejected
from voxledger.contracts.live import LiveSessionSpec
from voxledger.contracts.streams import LIVE_LEASE_TTL_S, LIVE_SESSIONS_BUCKET
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.leases import Lease, LeaseLost
from voxledger.transcriber.adapters.model import ModelCache
from voxledger.transcriber.domain.live_session import LiveSession
from voxledger.transcriber.live.session import SessionRunner
from voxledger.transcriber.live.settings import LiveSettings

log = structlog.get_logger(__name__)


class LiveWorker:
    def __init__(self, nc: Client, repo: AggregateRepository[LiveSession], models: ModelCache, settings: LiveSettings):
        self._nc, self._js, self._repo, self._models, self._settings = nc, nc.jetstream(), repo, models, settings
        # The pid keeps a restarted process apart from its dead predecessor: taking over is then visible.
        self.name = f"{settings.worker_name or socket.gethostname()}-{os.getpid()}"
        self.sessions: dict[str, asyncio.Task] = {}

    async def run(self, stop: asyncio.Event) -> None:
        specs = await self._js.key_value(LIVE_SESSIONS_BUCKET)
        while not stop.is_set():
            try:
                await self._scan(specs)
            except Exception:
                log.exception("live.scan_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._settings.live_scan_interval_s)
        for task in self.sessions.values():
            task.cancel()  # the leases expire and another worker continues after the last final
        await asyncio.gather(*self.sessions.values(), return_exceptions=True)

    async def _scan(self, specs: KeyValue) -> None:
        try:
            keys = await specs.keys()
        except NoKeysError:
            return
        for session_id in keys:
            if session_id in self.sessions:
                continue
            if len(self.sessions) >= self._settings.live_max_sessions:
                return  # full: the session waits for a worker with room
            lease = await Lease.acquire(self._js, f"live.{session_id}", self.name, LIVE_LEASE_TTL_S)
            if lease is None:
                continue  # held by a live worker
            try:
                entry = await specs.get(session_id)
            except Exception:
                await lease.release()
                continue  # ended meanwhile
            spec = msgspec.json.decode(entry.value, type=LiveSessionSpec)
            self.sessions[session_id] = asyncio.create_task(self._hold(specs, session_id, spec, lease))

    async def _hold(self, specs: KeyValue, session_id: str, spec: LiveSessionSpec, lease: Lease) -> None:
        runner = SessionRunner(self._nc, self._repo, self._models, self._settings, self.name, session_id, spec)
        with structlog.contextvars.bound_contextvars(recording_id=session_id, job_id=spec.job_id, tenant=spec.tenant_id):
            work = asyncio.create_task(runner.run())
            try:
                while not work.done():
                    await asyncio.wait({work}, timeout=LIVE_LEASE_TTL_S / 4)
                    if not work.done():
                        await lease.renew()
                await work
                await specs.delete(session_id)
                await lease.release()
            except LeaseLost:
                log.warning("live.lease_lost")  # it expired and another worker holds the session now
                work.cancel()
            except asyncio.CancelledError:
                work.cancel()  # shutting down: hand the session back now, not when the lease expires
                with contextlib.suppress(Exception):
                    await lease.release()
            except Rejected as err:
                log.warning("live.session_stopped", code=err.code, reason=err.message)
                if err.code == "session_ended":
                    await specs.delete(session_id)
            except Exception:
                log.exception("live.session_failed")  # the lease is left to expire: a worker retries it
                await asyncio.sleep(LIVE_LEASE_TTL_S)
            finally:
                self.sessions.pop(session_id, None)
