"""Bearer API keys. Each key belongs to a tenant; lookups are cached briefly, never per request.

Authentication runs first: `auth_guard` is a middleware, so for every `/v1` HTTP request the key is
checked before any body is read, any consistency wait starts or any read-model query runs. An
unauthenticated request of any size answers 401 at once; its body is never read.
"""

import hashlib
import time

import structlog
from litestar import Request
from litestar.types import ASGIApp, Receive, Scope, Send

from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.http.errors import ApiError
from voxledger.gateway.http.state import app_state

UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="voxledger"'}
MAX_KEY_CHARS = 256  # keys we issue are far shorter: a longer one is refused without a lookup
PROTECTED_PREFIX = "/v1/"


class KeyResolver:
    def __init__(self, readmodels: ReadModels, cache_s: float):
        self._readmodels = readmodels
        self._cache_s = cache_s
        self._cache: dict[str, tuple[str, float]] = {}

    async def tenant(self, api_key: str) -> str | None:
        if len(api_key) > MAX_KEY_CHARS or not api_key.isascii() or not api_key.isprintable():
            return None
        key_hash = hashlib.sha256(api_key.encode()).hexdigest()
        hit = self._cache.get(key_hash)
        now = time.monotonic()
        if hit and hit[1] > now:
            return hit[0]
        tenant = await self._readmodels.tenant_for_key_hash(key_hash)
        if tenant is not None:
            self._cache[key_hash] = (tenant, now + self._cache_s)
        return tenant


def bearer_key(authorization: str) -> str | None:
    scheme, _, key = authorization.partition(" ")
    return key.strip() or None if scheme.lower() == "bearer" else None


async def tenant_of(resolver: KeyResolver, authorization: str) -> str:
    """The tenant of `Authorization: Bearer <key>`, or a 401."""
    key = bearer_key(authorization)
    if key is None:
        raise ApiError(401, "unauthorized", "send `Authorization: Bearer <api key>`", UNAUTHORIZED)
    tenant = await resolver.tenant(key)
    if tenant is None:
        raise ApiError(401, "invalid_api_key", "the API key is not valid", UNAUTHORIZED)
    return tenant


def auth_guard(app: ASGIApp) -> ASGIApp:
    """Checks the key of every `/v1` HTTP request before its handler runs, and puts the tenant in the scope.

    The live WebSocket authenticates itself (browsers send the key in a first message) with a short deadline.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PROTECTED_PREFIX):
            request: Request = Request(scope)
            tenant = await tenant_of(app_state(scope).key_resolver, request.headers.get("authorization", ""))
            scope.setdefault("state", {})["tenant"] = tenant
            structlog.contextvars.bind_contextvars(tenant=tenant)  # per request: each runs in its own task
        await app(scope, receive, send)

    return middleware


def authenticate(request: Request) -> str:
    """The `tenant` dependency: the guard has already checked the key."""
    return request.scope["state"]["tenant"]
