"""Helpers the route handlers share."""

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from voxledger.contracts.ids import created_at_ms
from voxledger.gateway.domain.errors import not_found
from voxledger.gateway.domain.validation import is_canonical_id
from voxledger.gateway.http.consistency import ProjectionNotifier, when_advanced

T = TypeVar("T")


def valid_id(value: str, what: str) -> str:
    """A canonical UUID, lowercased; anything else (`urn:uuid:...`, braces, bare hex) is simply not found."""
    if not is_canonical_id(value):
        raise not_found(what)
    return value.lower()


async def fetch_fresh(
    fetch: Callable[[], Awaitable[T | None]], entity_id: str, wait_s: float, what: str, notifier: ProjectionNotifier
) -> T:
    """Reads a row; an id created moments ago gets a short wait for the projection instead of a false 404.

    The row is read again only when the projections advance (the process's notifier), not in a loop.
    """
    row = await fetch()
    created = created_at_ms(entity_id)
    if row is None and created is not None and time.time() * 1000 - created < (wait_s + 5) * 1000:
        row = await when_advanced(notifier, fetch, time.monotonic() + wait_s)
    if row is None:
        raise not_found(what)
    return row


async def fetch_recording(request, tenant: str, recording_id: str):
    """The caller's recording, waiting briefly if it was created moments ago; 404 for anyone else's."""
    recording_id = valid_id(recording_id, "recording")
    state = request.app.state
    fetch = lambda: state.readmodels.recording(tenant, recording_id)  # noqa: E731
    return await fetch_fresh(fetch, recording_id, state.settings.fresh_id_wait_s, "recording", state.notifier)
