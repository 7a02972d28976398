"""API keys: scope rules (each route's guard, as the app wires it), when a key is usable, the failed-auth limiter
and the last-use throttle."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from voxledger.gateway.app import create_app
from voxledger.gateway.domain.keys import FailureLimiter, KeyInfo, UseThrottle, usable
from voxledger.gateway.http.auth import needs_scope
from voxledger.gateway.http.errors import ApiError
from voxledger.gateway.settings import GatewaySettings

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Litestar:
    return create_app(GatewaySettings(metrics_token="t", data_dir=str(tmp_path_factory.mktemp("gateway"))))


def route_handler(app: Litestar, method: str, path: str) -> HTTPRouteHandler | None:
    """The handler the app routes `method path` to; None where it answers 404 or 405."""
    for route in app.routes:
        pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(route.path_format))
        if isinstance(route, HTTPRoute) and re.fullmatch(pattern, path) and method in route.route_handler_map:
            return route.route_handler_map[method][0]
    return None


async def allowed(app: Litestar, scope: str, method: str, path: str) -> bool:
    """Whether a key of `scope` gets past the route's guards (a request that reaches no route is refused by none)."""
    handler = route_handler(app, method, path)
    connection: ASGIConnection = ASGIConnection({"type": "http", "state": {"key_scope": scope}})  # type: ignore[arg-type]
    try:
        if handler is not None:
            await handler.authorize_connection(connection)
    except ApiError as refused:
        assert (refused.status, refused.code) == (403, "insufficient_scope")
        return False
    return True


@pytest.mark.parametrize(
    ("scope", "method", "path", "ok"),
    [
        ("read", "GET", "/v1/recordings", True),
        ("read", "HEAD", "/v1/recordings/x", True),
        ("read", "GET", "/v1/recordings/x/events", True),  # SSE
        ("read", "POST", "/v1/recordings", False),
        ("read", "DELETE", "/v1/recordings/x", False),
        ("read", "POST", "/v1/audio/transcriptions", False),
        ("read", "GET", "/v1/keys", False),
        ("read", "GET", "/v1/webhooks", False),
        ("member", "POST", "/v1/recordings", True),
        ("member", "DELETE", "/v1/jobs/x", True),
        ("member", "GET", "/v1/keys", False),
        ("member", "POST", "/v1/keys/x/rotate", False),
        ("member", "GET", "/v1/webhooks", False),
        ("member", "PATCH", "/v1/webhooks/x", False),
        ("member", "GET", "/v1/keysmith", True),  # only /v1/keys itself and below it
        ("admin", "POST", "/v1/keys", True),
        ("admin", "DELETE", "/v1/webhooks/x", True),
        ("admin", "POST", "/v1/recordings", True),
    ],
)
async def test_scopes_allow_what_they_say(app, scope, method, path, ok):
    assert await allowed(app, scope, method, path) is ok


async def test_a_read_key_may_ask_for_an_audio_link_but_post_nothing_else(app):
    assert await allowed(app, "read", "POST", "/v1/recordings/r1/audio-link")
    assert route_handler(app, "POST", "/v1/recordings/r1/audio-link/x") is None  # no such route: 404
    assert not await allowed(app, "read", "POST", "/v1/recordings/r1/transcriptions")


def guards(handler: HTTPRouteHandler) -> list:
    return [guard for layer in handler.ownership_layers for guard in layer.guards or ()]


def scope_before(method: str, path: str) -> str:
    """What the URL table of the middleware that checked scopes before guards asked of each route."""
    if re.match(r"/v1/(keys|webhooks|settings)(/|$)", path):
        return "admin"
    reads = re.fullmatch(r"/v1/recordings/[^/]+/audio-link|/v1/ask", path)  # POSTs that change nothing
    return "read" if method in ("GET", "HEAD") or reads else "member"


def test_every_v1_route_is_guarded_by_the_scope_it_needed_before(app):
    routes = [r for r in app.routes if isinstance(r, HTTPRoute)]
    v1 = [
        (m, r.path_format, h) for r in routes if r.path.startswith("/v1/") for m, (h, _) in r.route_handler_map.items()
    ]
    assert len([m for m, _, _ in v1 if m != "OPTIONS"]) == 44
    for method, path, handler in v1:
        needed = (
            "member" if method == "OPTIONS" and scope_before(method, path) == "read" else scope_before(method, path)
        )
        assert handler.opt.get("scope") == needed, (method, path)
        assert needs_scope in guards(handler), (method, path)
    others = [h for r in routes if not r.path.startswith("/v1/") for h, _ in r.route_handler_map.values()]
    assert not any(needs_scope in guards(h) for h in others)  # health, docs, the web app: no key


def test_a_key_is_usable_until_it_expires_or_is_revoked_by_either_source():
    key = KeyInfo(key_id="k", tenant="t", scope="member")
    assert usable(key, NOW)
    assert not usable(KeyInfo(key_id="k", tenant="t", scope="member", expires_at=NOW), NOW)
    assert usable(KeyInfo(key_id="k", tenant="t", scope="member", expires_at=NOW + timedelta(seconds=1)), NOW)
    assert not usable(KeyInfo(key_id="k", tenant="t", scope="member", revoked_at=NOW - timedelta(days=1)), NOW)
    assert not usable(key, NOW, revoked_at=NOW)  # the gateway's own, from the event stream
    assert usable(key, NOW, revoked_at=NOW + timedelta(minutes=5))  # a rotation's overlap: still valid


def test_the_limiter_refuses_an_address_after_the_limit_until_its_window_ends():
    limiter = FailureLimiter(limit=3, window_s=60)
    for t in (0.0, 1.0, 2.0):
        assert limiter.retry_after("10.0.0.1", t) is None
        limiter.failed("10.0.0.1", t)
    assert limiter.retry_after("10.0.0.1", 3.0) == pytest.approx(57.0)
    assert limiter.retry_after("10.0.0.2", 3.0) is None  # per address
    assert limiter.retry_after("10.0.0.1", 60.0) is None  # a new window
    limiter.failed("10.0.0.1", 61.0)
    assert limiter.retry_after("10.0.0.1", 61.5) is None


def test_the_limiter_keeps_a_bounded_number_of_addresses():
    limiter = FailureLimiter(limit=1, window_s=60, max_addresses=100)
    for i in range(10_000):
        limiter.failed(f"10.0.{i // 256}.{i % 256}", 0.0)
    assert len(limiter) == 100
    assert limiter.retry_after("10.0.39.15", 1.0) is not None  # the newest is kept: 9999 = 39 * 256 + 15
    assert limiter.retry_after("10.0.0.0", 1.0) is None  # the oldest were dropped


def test_last_use_is_reported_once_per_key_per_minute():
    throttle = UseThrottle(every_s=60, max_keys=2)
    assert throttle.due("a", 0.0) and not throttle.due("a", 59.0) and throttle.due("a", 60.0)
    assert throttle.due("b", 0.0) and throttle.due("c", 0.0)
    assert throttle.due("a", 61.0)  # dropped as the least recent when c came: due again, never lost
