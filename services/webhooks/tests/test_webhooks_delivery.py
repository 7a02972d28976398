"""The retry policy and the delivery Decider: what each answer leads to, with no IO."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.decider import Scenario, names
from voxledger.contracts import webhooks as wh
from voxledger.webhooks.domain.delivery import (
    AttemptResult,
    DeliveryState,
    Drop,
    RecordAttempt,
    RetryPolicy,
    classify,
    decide_with,
    disable_reason,
    evolve,
    next_retry_at,
)

POLICY = RetryPolicy(base_s=10, max_s=3600, retry_for_s=86400, disable_after_s=86400)
T0 = datetime(2030, 1, 1, tzinfo=UTC)
WORK = wh.DeliveryWork(
    delivery_id="d1",
    endpoint_id="e1",
    tenant_id="t",
    webhook_id="msg_d1",
    event_type="recording.uploaded",
    resource_id="r1",
    payload={"type": "recording.uploaded"},
)


@pytest.mark.parametrize(
    ("result", "kind"),
    [
        (AttemptResult(status_code=200), "delivered"),
        (AttemptResult(status_code=204), "delivered"),
        (AttemptResult(status_code=410), "gone"),
        (AttemptResult(status_code=400), "stop"),
        (AttemptResult(status_code=404), "stop"),
        (AttemptResult(status_code=301, error="redirect_not_followed"), "stop"),
        (AttemptResult(status_code=408), "retry"),
        (AttemptResult(status_code=429), "retry"),
        (AttemptResult(status_code=500), "retry"),
        (AttemptResult(status_code=503), "retry"),
        (AttemptResult(error="timeout"), "retry"),
        (AttemptResult(error="connection_error"), "retry"),
        (AttemptResult(error="private_address"), "retry"),  # DNS may change back; the window bounds it
    ],
)
def test_each_answer_is_classified(result, kind):
    assert classify(result) == kind


def test_backoff_doubles_with_jitter_is_capped_and_ends_with_the_window():
    first = next_retry_at(POLICY, 1, T0, T0, jitter=0.0)
    assert first == T0 + timedelta(seconds=5)  # base * 2**0 * 0.5
    assert next_retry_at(POLICY, 3, T0, T0, jitter=0.99) == T0 + timedelta(seconds=10 * 4 * 0.995)
    assert next_retry_at(POLICY, 30, T0, T0, jitter=0.5) == T0 + timedelta(seconds=3600)
    late = T0 + timedelta(seconds=86400 - 1)
    assert next_retry_at(POLICY, 12, T0, late, jitter=0.5) is None


def test_410_and_a_long_failure_disable_the_endpoint():
    assert disable_reason(POLICY, AttemptResult(status_code=410), T0, T0) == "the receiver answered 410 Gone"
    assert disable_reason(POLICY, AttemptResult(status_code=500), T0, T0 + timedelta(hours=1)) is None
    assert "failed for 24.0 h" in (
        disable_reason(POLICY, AttemptResult(error="timeout"), T0, T0 + timedelta(days=1)) or ""
    )
    assert disable_reason(POLICY, AttemptResult(status_code=400), T0, T0 + timedelta(days=2)) is None


def attempt(result: AttemptResult, at: datetime, jitter: float = 0.5) -> RecordAttempt:
    return RecordAttempt(work=WORK, result=result, now=at, jitter=jitter)


def test_attempts_are_counted_from_the_log_and_a_settled_delivery_decides_nothing():
    scenario = Scenario(decide_with(POLICY), evolve, DeliveryState())
    [failed] = scenario.when(attempt(AttemptResult(status_code=503, latency_ms=3.0), T0))
    assert isinstance(failed, wh.WebhookDeliveryAttempted)
    assert (failed.attempt, failed.outcome, failed.error) == (1, "retrying", "http_503")
    assert failed.next_retry_at is not None and failed.first_attempt_at == T0.isoformat()
    [ok] = scenario.when(
        attempt(AttemptResult(status_code=200, response_excerpt="x" * 1000), T0 + timedelta(seconds=9))
    )
    assert isinstance(ok, wh.WebhookDeliveryAttempted)
    assert (ok.attempt, ok.outcome, ok.next_retry_at, ok.error) == (2, "delivered", None, None)
    assert ok.first_attempt_at == T0.isoformat() and len(ok.response_excerpt) == 256
    assert scenario.rejects(attempt(AttemptResult(status_code=200), T0)) == "delivery_settled"


def test_a_spent_window_fails_the_delivery_and_a_drop_settles_it():
    scenario = Scenario(decide_with(POLICY), evolve, DeliveryState())
    scenario.when(attempt(AttemptResult(error="timeout"), T0))
    [last] = scenario.when(attempt(AttemptResult(error="timeout"), T0 + timedelta(days=1)))
    assert isinstance(last, wh.WebhookDeliveryAttempted) and last.outcome == "failed" and last.next_retry_at is None
    other = Scenario(decide_with(POLICY), evolve, DeliveryState())
    other.when(attempt(AttemptResult(status_code=500), T0))
    [dropped] = other.when(Drop(work=WORK, reason="the endpoint is disabled"))
    assert names([dropped]) == ["WebhookDeliveryDropped"]
    assert isinstance(dropped, wh.WebhookDeliveryDropped) and dropped.attempts == 1
    assert other.state.settled
