"""Helpers the route handlers share: reads by id that survive the projection's lag."""

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from voxledger.contracts.ids import created_at_ms
from voxledger.contracts.readmodels import JobRow, LiveSessionRow, RecordingRow
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.domain.errors import not_found
from voxledger.gateway.domain.validation import is_canonical_id
from voxledger.gateway.http.consistency import ProjectionNotifier, when_advanced

T = TypeVar("T")


def valid_id(value: str, what: str) -> str:
    """A canonical UUID, lowercased; anything else (`urn:uuid:...`, braces, bare hex) is simply not found."""
    if not is_canonical_id(value):
        raise not_found(what)
    return value.lower()


class FreshReads:
    """Reads by id; an id created moments ago gets a short wait for the projection instead of a false 404.

    The row is read again only when the projections advance (the process's notifier), not in a loop.
    """

    def __init__(self, readmodels: ReadModels, notifier: ProjectionNotifier, wait_s: float):
        self.readmodels, self._notifier, self._wait_s = readmodels, notifier, wait_s

    async def fetch(self, fetch: Callable[[], Awaitable[T | None]], entity_id: str, what: str) -> T:
        row = await fetch()
        created = created_at_ms(entity_id)
        if row is None and created is not None and time.time() * 1000 - created < (self._wait_s + 5) * 1000:
            row = await when_advanced(self._notifier, fetch, time.monotonic() + self._wait_s)
        if row is None:
            raise not_found(what)
        return row

    async def recording(self, tenant: str, recording_id: str) -> RecordingRow:
        """The caller's recording; 404 for anyone else's."""
        recording_id = valid_id(recording_id, "recording")
        return await self.fetch(lambda: self.readmodels.recordings.get(tenant, recording_id), recording_id, "recording")

    async def job(self, tenant: str, job_id: str) -> JobRow:
        job_id = valid_id(job_id, "job")
        return await self.fetch(lambda: self.readmodels.jobs.get(tenant, job_id), job_id, "job")

    async def live_session(self, tenant: str, session_id: str) -> LiveSessionRow:
        session_id = valid_id(session_id, "live_session")
        return await self.fetch(lambda: self.readmodels.live.get(tenant, session_id), session_id, "live_session")
