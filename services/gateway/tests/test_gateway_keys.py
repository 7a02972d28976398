"""API keys, pure: scope rules, when a key is usable, the failed-auth limiter and the last-use throttle."""

from datetime import UTC, datetime, timedelta

import pytest

from voxledger.gateway.domain.keys import FailureLimiter, KeyInfo, UseThrottle, allowed, usable

NOW = datetime(2026, 1, 1, tzinfo=UTC)


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
def test_scopes_allow_what_they_say(scope, method, path, ok):
    assert allowed(scope, method, path) is ok


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
