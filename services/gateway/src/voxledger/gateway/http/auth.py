"""Bearer API keys. Each key belongs to a tenant and has a scope; lookups are cached briefly, never per request.

Authentication runs first: `auth_guard` is a middleware, so for every `/v1` HTTP request the key is
checked before any body is read, any consistency wait starts or any read-model query runs. An
unauthenticated request of any size answers 401 at once; its body is never read. Authorization follows, still
before any of those: `needs_scope`, a Litestar guard, compares the key's scope with the least the route names
in its `opt={"scope": ...}` (read < member < admin).

The one exception is a recording's audio: `GET /v1/recordings/{id}/audio?link=<token>` is let through by a
capability link (domain/audio_links.py) instead of a key, for that route only (an `<audio src>` sends no header).

Revocations don't wait for the cache: each gateway follows the key events (an ordered consumer on
`vl.evt.key.*.ApiKeyRevoked`, from the start of the log) and refuses a revoked key as soon as the event
arrives, whatever its cache holds. Expiry is checked against the time the cached row carries. What a key
already opened ends with it too: each request runs under a `Guard` (http/credential_ends.py), cut short when
its key is revoked or expires; a stream that has started gets a last `closed` event, a wait gets a 401.

Failed authentications are limited per client address (uvicorn takes it from `X-Forwarded-For` of the
proxies in `VOXLEDGER_TRUSTED_PROXIES`), after the credential is checked: a valid key is never refused, an
address that sent too many invalid ones gets 429 for its further invalid ones.
"""

import asyncio
import contextlib
import ipaddress
import re
import time
from datetime import UTC, datetime

import msgspec
import structlog
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from voxledger.contracts import envelope, subjects
from voxledger.contracts.events import ApiKeyRevoked
from voxledger.contracts.key_commands import RecordApiKeyUse
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.domain.audio_links import AudioLinks
from voxledger.gateway.domain.keys import FailureLimiter, KeyInfo, UseThrottle, covers, usable
from voxledger.gateway.http.credential_ends import KEY_EXPIRED, Guard, OpenCredentials
from voxledger.gateway.http.errors import ApiError
from voxledger.gateway.http.state import app_state
from voxledger.runtime import feeds, keys

log = structlog.get_logger(__name__)

UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="voxledger"'}
MAX_KEY_CHARS = 256  # keys we issue are far shorter: a longer one is refused without a lookup
PROTECTED_PREFIX = "/v1/"
REVOCATIONS = subjects.event_type_filter(subjects.API_KEY, ApiKeyRevoked.__name__)
AUDIO_PATH = re.compile(r"/v1/recordings/([^/]+)/audio")  # the one route a link opens
LINK_METHODS = frozenset({"GET", "HEAD"})


class KeyResolver:
    def __init__(self, readmodels: ReadModels, cache_s: float, nc: Client | None = None, bus: Bus | None = None):
        self._readmodels = readmodels
        self._cache_s = cache_s
        self._cache: dict[str, tuple[KeyInfo, float]] = {}
        self._revoked: dict[str, datetime] = {}  # key id -> effective time, from the event stream
        self._nc, self._bus = nc, bus
        self._uses = UseThrottle()
        self._reports: set[asyncio.Task[None]] = set()
        self._sub: JetStreamContext.PushSubscription | None = None
        self.open = OpenCredentials()  # what each key holds open here: ended with the key

    async def start(self) -> None:
        """Follows every revocation in the log, old ones first, then each as it is appended."""
        if self._nc is not None:
            self._sub = await feeds.follow(self._nc.jetstream(), REVOCATIONS, self._on_revoked)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
        for task in list(self._reports):
            task.cancel()

    async def _on_revoked(self, msg: Msg) -> None:
        try:
            message = envelope.decode(msg.data)
        except (envelope.UnknownMessage, ValueError) as err:
            log.warning("keys.revocation_unreadable", subject=msg.subject, reason=str(err))
            return
        if isinstance(message.body, ApiKeyRevoked):
            key_id, at = message.envelope.aggregate_id, message.body.effective_at
            self._revoked[key_id] = min(at, self._revoked.get(key_id, at))
            self.open.end_at(key_id, self._revoked[key_id])

    def revoked(self, key_id: str, now: datetime) -> bool:
        """Whether the key's revocation event has arrived and is in effect (for what a key made: audio links)."""
        at = self._revoked.get(key_id)
        return at is not None and at <= now

    def revoked_at(self, key_id: str) -> datetime | None:
        """When the key's revocation (as followed here) takes effect, if it is revoked."""
        return self._revoked.get(key_id)

    def guard(self, info: KeyInfo) -> Guard:
        """A guard that ends what the key opens when it expires or is revoked."""
        guard = Guard(self.open)
        ends = [t for t in (info.revoked_at, self._revoked.get(info.key_id)) if t is not None]
        guard.hold(info.key_id, info.expires_at, min(ends, default=None))
        return guard

    async def resolve(self, api_key: str) -> KeyInfo | None:
        """The key's row when it is usable now: known, not expired, not revoked."""
        if len(api_key) > MAX_KEY_CHARS or not api_key.isascii() or not api_key.isprintable():
            return None
        key_hash = keys.hash_key(api_key)
        hit = self._cache.get(key_hash)
        now = time.monotonic()
        if hit and hit[1] > now:
            info: KeyInfo | None = hit[0]
        else:
            info = await self._readmodels.ops.key_for_hash(key_hash)
            if info is not None:
                self._cache[key_hash] = (info, now + self._cache_s)
        if info is None or not usable(info, datetime.now(UTC), self._revoked.get(info.key_id)):
            return None
        self._report_use(info, now)
        return info

    def _report_use(self, info: KeyInfo, now: float) -> None:
        if self._bus is None or not self._uses.due(info.key_id, now):
            return
        task = asyncio.create_task(self._record_use(info))
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    async def _record_use(self, info: KeyInfo) -> None:
        assert self._bus is not None
        at = datetime.now(UTC).replace(second=0, microsecond=0)
        try:  # one command per key and minute, also across gateways: the dedup key names the minute
            await self._bus.send(
                RecordApiKeyUse(key_id=info.key_id, at=at),
                aggregate_id=info.key_id,
                tenant=info.tenant,
                dedup_key=f"key-used:{info.key_id}:{at.isoformat()}",
                target=subjects.API_KEY,
            )
        except Exception as err:  # a lost last-use report is harmless: the next minute sends another
            log.warning("keys.use_not_recorded", key_id=info.key_id, reason=str(err))


class AuthLimits:
    """Failed authentications per client address; `exempt` networks (a trusted reverse proxy) are not limited."""

    def __init__(self, per_minute: int, exempt: str):
        self.limiter = FailureLimiter(per_minute)
        self._exempt = [ipaddress.ip_network(n.strip(), strict=False) for n in exempt.split(",") if n.strip()]

    def address(self, scope: Scope) -> str | None:
        client = scope.get("client")
        if not client:
            return None
        with contextlib.suppress(ValueError):
            if any(ipaddress.ip_address(client[0]) in net for net in self._exempt):
                return None
        return str(client[0])


def bearer_key(authorization: str) -> str | None:
    """The key of `Bearer <key>`, or of `Token <key>` as Deepgram's clients send it."""
    scheme, _, key = authorization.partition(" ")
    return key.strip() or None if scheme.lower() in ("bearer", "token") else None


def refusal(limits: AuthLimits | None, address: str | None, error: ApiError) -> ApiError:
    """What an invalid credential gets: `error`, counted against its address; a 429 once that address failed too
    often. Only a credential that failed comes here, so a valid one is never refused whatever its address did."""
    if limits is None or address is None:
        return error
    now = time.monotonic()
    if wait := limits.limiter.retry_after(address, now):
        retry = str(max(1, round(wait)))
        return ApiError(429, "too_many_auth_failures", "too many failed authentications", {"Retry-After": retry})
    limits.limiter.failed(address, now)
    return error


async def key_of(resolver: KeyResolver, authorization: str, limits: AuthLimits | None, address: str | None) -> KeyInfo:
    """The key of `Authorization: Bearer <key>`, or a 401 (a 429 once the address sent too many invalid keys)."""
    key = bearer_key(authorization)
    if key is None:
        raise ApiError(401, "unauthorized", "send `Authorization: Bearer <api key>`", UNAUTHORIZED)
    info = await resolver.resolve(key)
    if info is None:
        raise refusal(limits, address, ApiError(401, "invalid_api_key", "the API key is not valid", UNAUTHORIZED))
    return info


def audio_link(request: Request) -> tuple[str, str] | None:
    """(recording id, token) of a read of a recording's audio by link; None for any other request."""
    match = AUDIO_PATH.fullmatch(request.scope["path"])
    token = request.query_params.get("link") if match and request.method in LINK_METHODS else None
    return None if token is None or match is None else (match.group(1), token)


def link_holder(state: State, recording_id: str, token: str, address: str | None) -> tuple[dict[str, object], Guard]:
    """Who a valid audio link stands for (the tenant and key that made it, read-only) and a guard that ends the
    read if that key is revoked; or a 401 (429 once the address sent too many invalid credentials)."""
    links: AudioLinks = state.audio_links
    resolver: KeyResolver = state.key_resolver
    claims = links.verify(token, recording_id, time.time())
    if claims is None or resolver.revoked(claims.key_id, datetime.now(UTC)):
        invalid = ApiError(401, "invalid_audio_link", "the audio link is not valid (expired, or not this recording's)")
        raise refusal(state.auth_limits, address, invalid)
    guard = Guard(resolver.open)
    guard.hold(claims.key_id, None, resolver.revoked_at(claims.key_id))
    return {"tenant": claims.tenant, "key_id": claims.key_id, "key_scope": "read"}, guard


def auth_guard(app: ASGIApp) -> ASGIApp:
    """Checks the key of every `/v1` HTTP request before its route runs; puts the tenant and the key's scope in the scope.

    The live WebSocket authenticates itself (browsers send the key in a first message) with a short deadline.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PROTECTED_PREFIX):
            request: Request = Request(scope)
            state = app_state(scope)
            limits: AuthLimits = state.auth_limits
            if (link := audio_link(request)) is not None:  # the link decides, whatever header comes with it
                holder, guard = link_holder(state, *link, limits.address(scope))
            else:
                holder, guard = await _key_holder(request, state, limits)
            scope.setdefault("state", {}).update(holder)
            structlog.contextvars.bind_contextvars(tenant=holder["tenant"])  # per request: each runs in its own task
            await serve_guarded(guard, app, scope, receive, send)
            return
        await app(scope, receive, send)

    return middleware


async def _key_holder(request: Request, state: State, limits: AuthLimits) -> tuple[dict[str, object], Guard]:
    authorization = request.headers.get("authorization", "")
    resolver: KeyResolver = state.key_resolver
    info = await key_of(resolver, authorization, limits, limits.address(request.scope))
    holder: dict[str, object] = {
        "tenant": info.tenant,
        "key_id": info.key_id,
        "key_scope": info.scope,
        "key_expires_at": info.expires_at,
    }
    return holder, resolver.guard(info)


async def needs_scope(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The guard of every `/v1` HTTP route: the key (checked by `auth_guard`) must cover the route's
    `opt["scope"]`. A route that names none needs `admin`, so a route added without one is closed, not open.
    Async, so that Litestar calls it in the request's task rather than in a thread."""
    held = connection.scope.get("state", {}).get("key_scope")
    if held is None or not covers(held, handler.opt.get("scope", "admin")):
        raise ApiError(403, "insufficient_scope", f"a {held} key may not do this")


def authenticate(request: Request) -> str:
    """The `tenant` dependency: the guard has already checked the key."""
    return request.scope["state"]["tenant"]


ENDED = {KEY_EXPIRED: "the API key has expired"}


async def serve_guarded(guard: Guard, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Serves the request until its credential ends. Cut short before its answer began (a long wait), it is a
    401; an event stream that began gets a last `closed` event and ends; any other answer is cut off."""
    response: dict[str, object] = {}

    async def watched(message: Message) -> None:
        if message["type"] == "http.response.start":
            response["event_stream"] = any(
                name.lower() == b"content-type" and value.startswith(b"text/event-stream")
                for name, value in message.get("headers", ())
            )
        response["complete"] = message["type"] == "http.response.body" and not message.get("more_body", False)
        await send(message)

    reason = await guard.run(app(scope, receive, watched))
    if reason is None or response.get("complete"):
        return
    detail = ENDED.get(reason, "the API key was revoked")
    log.info("auth.credential_ended", reason=reason, path=scope["path"])
    if "event_stream" not in response:
        raise ApiError(401, reason, detail, UNAUTHORIZED)
    if response["event_stream"]:
        closed = msgspec.json.encode({"code": reason, "detail": detail})
        await send(
            {"type": "http.response.body", "body": b"event: closed\ndata: " + closed + b"\n\n", "more_body": False}
        )
