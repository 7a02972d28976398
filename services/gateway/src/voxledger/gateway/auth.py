"""Bearer API keys. Each key belongs to a tenant; lookups are cached briefly, never per request."""

import hashlib
import time

import structlog
from litestar import Request

from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.domain.problems import ApiError

UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="voxledger"'}


class KeyResolver:
    def __init__(self, readmodels: ReadModels, cache_s: float):
        self._readmodels = readmodels
        self._cache_s = cache_s
        self._cache: dict[str, tuple[str, float]] = {}

    async def tenant(self, api_key: str) -> str | None:
        key_hash = hashlib.sha256(api_key.encode()).hexdigest()
        hit = self._cache.get(key_hash)
        now = time.monotonic()
        if hit and hit[1] > now:
            return hit[0]
        tenant = await self._readmodels.tenant_for_key_hash(key_hash)
        if tenant is not None:
            self._cache[key_hash] = (tenant, now + self._cache_s)
        return tenant


async def authenticate(request: Request) -> str:
    """The caller's tenant, from `Authorization: Bearer <key>`."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "unauthorized", "send `Authorization: Bearer <api key>`", UNAUTHORIZED)
    tenant = await request.app.state.key_resolver.tenant(key.strip())
    if tenant is None:
        raise ApiError(401, "invalid_api_key", "the API key is not valid", UNAUTHORIZED)
    structlog.contextvars.bind_contextvars(tenant=tenant)  # per request: each runs in its own task
    return tenant
