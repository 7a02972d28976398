"""Helpers the route handlers share."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from voxledger.contracts.ids import created_at_ms, is_valid_id
from voxledger.gateway.domain.problems import ApiError, not_found

T = TypeVar("T")


def valid_id(value: str, what: str) -> str:
    if not is_valid_id(value):
        raise not_found(what)
    return value.lower()


async def fetch_fresh(fetch: Callable[[], Awaitable[T | None]], entity_id: str, wait_s: float, what: str) -> T:
    """Reads a row; an id created moments ago gets a short wait for the projection instead of a false 404."""
    row = await fetch()
    created = created_at_ms(entity_id)
    if row is None and created is not None and time.time() * 1000 - created < (wait_s + 5) * 1000:
        deadline = time.monotonic() + wait_s
        while row is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            row = await fetch()
    if row is None:
        raise not_found(what)
    return row


def bad_request(code: str, detail: str) -> ApiError:
    return ApiError(400, code, detail)


async def fetch_recording(request, tenant: str, recording_id: str):
    """The caller's recording, waiting briefly if it was created moments ago; 404 for anyone else's."""
    recording_id = valid_id(recording_id, "recording")
    readmodels = request.app.state.readmodels
    wait_s = request.app.state.settings.fresh_id_wait_s
    return await fetch_fresh(lambda: readmodels.recording(tenant, recording_id), recording_id, wait_s, "recording")
