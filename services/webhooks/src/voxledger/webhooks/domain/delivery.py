"""One delivery (an event for an endpoint) as a pure Decider, and the retry policy it follows.

- A 2xx settles it.
- 410 Gone fails it and disables the endpoint.
- Other 4xx (except 408 and 429) and redirects (never followed) fail it: retrying cannot help.
- 5xx, 408, 429, timeouts, connection errors and refused addresses are retried with exponential
  backoff and jitter, for up to `retry_for_s` after the first attempt. A delivery still failing
  `disable_after_s` after its first attempt also disables its endpoint: it has been failing that long.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import msgspec
from msgspec.structs import replace

from voxledger.contracts import decisions
from voxledger.contracts import webhooks as wh
from voxledger.contracts.decisions import Decider, Rejected
from voxledger.contracts.events import Event
from voxledger.runtime.consumers import retry_delay_s

EXCERPT_CHARS = 256
RETRYABLE_STATUSES = (408, 429)


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    base_s: float = 5.0
    max_s: float = 3600.0
    retry_for_s: float = 86400.0
    disable_after_s: float = 86400.0


class AttemptResult(msgspec.Struct, frozen=True, kw_only=True):
    """What one HTTP attempt came to: a status, or an error code (timeout, connection_error, ...)."""

    status_code: int | None = None
    error: str | None = None
    latency_ms: float | None = None
    response_excerpt: str = ""


class DeliveryState(msgspec.Struct, frozen=True, kw_only=True):
    attempts: int = 0
    first_attempt_at: datetime | None = None
    settled: bool = False


class RecordAttempt(msgspec.Struct, frozen=True, kw_only=True):
    work: wh.DeliveryWork
    result: AttemptResult
    now: datetime
    jitter: float  # the caller's random draw in [0, 1), so the decision stays pure


class Drop(msgspec.Struct, frozen=True, kw_only=True):
    work: wh.DeliveryWork
    reason: str


DeliveryCommand = RecordAttempt | Drop


def classify(result: AttemptResult) -> str:
    """`delivered`, `retry`, `gone` or `stop`."""
    code = result.status_code
    if code is None:
        return "retry"
    if 200 <= code < 300:
        return "delivered"
    if code == 410:
        return "gone"
    if code >= 500 or code in RETRYABLE_STATUSES:
        return "retry"
    return "stop"


def next_retry_at(policy: RetryPolicy, attempt: int, first: datetime, now: datetime, jitter: float) -> datetime | None:
    """When to try again after failed attempt number `attempt`, or None once the retry window is spent."""
    delay = min(retry_delay_s(attempt, policy.base_s, jitter), policy.max_s)
    at = now + timedelta(seconds=delay)
    return at if at <= first + timedelta(seconds=policy.retry_for_s) else None


def disable_reason(policy: RetryPolicy, result: AttemptResult, first: datetime, now: datetime) -> str | None:
    """Why this attempt disables the endpoint, if it does."""
    kind = classify(result)
    if kind == "gone":
        return "the receiver answered 410 Gone"
    failing_s = (now - first).total_seconds()
    if kind == "retry" and failing_s >= policy.disable_after_s:
        return f"deliveries have failed for {failing_s / 3600:.1f} h"
    return None


def evolve(state: DeliveryState, event: Event) -> DeliveryState:
    if isinstance(event, wh.WebhookDeliveryAttempted):
        first = datetime.fromisoformat(event.first_attempt_at)
        return DeliveryState(attempts=event.attempt, first_attempt_at=first, settled=event.outcome != "retrying")
    if isinstance(event, wh.WebhookDeliveryDropped):
        return replace(state, settled=True)
    return state


def fold(history: list[Event]) -> DeliveryState:
    return decisions.fold(evolve, DeliveryState(), history)


def decider(policy: RetryPolicy) -> Decider[DeliveryCommand, Event, DeliveryState]:
    """A delivery's Decider under a deployment's retry policy."""
    return Decider(initial=DeliveryState(), decide=decide_with(policy), evolve=evolve)


Decide = Callable[[DeliveryCommand, DeliveryState], list[Event]]


def decide_with(policy: RetryPolicy) -> Decide:
    """The decider under a deployment's retry policy."""

    def decide(command: DeliveryCommand, state: DeliveryState) -> list[Event]:
        if state.settled:
            raise Rejected("delivery_settled", "the delivery has already settled")
        work = command.work
        described: dict[str, Any] = {
            "endpoint_id": work.endpoint_id,
            "webhook_id": work.webhook_id,
            "event_type": work.event_type,
            "resource_id": work.resource_id,
            "payload": work.payload,
        }
        if isinstance(command, Drop):
            first = state.first_attempt_at.isoformat() if state.first_attempt_at else None
            return [
                wh.WebhookDeliveryDropped(
                    **described, reason=command.reason, attempts=state.attempts, first_attempt_at=first
                )
            ]
        return [_attempted(policy, command, state, described)]

    return decide


def _attempted(policy: RetryPolicy, command: RecordAttempt, state: DeliveryState, described: dict[str, Any]) -> Event:
    result, now = command.result, command.now
    attempt = state.attempts + 1
    first = state.first_attempt_at or now
    kind = classify(result)
    retry_at = next_retry_at(policy, attempt, first, now, command.jitter) if kind == "retry" else None
    outcome: wh.DeliveryOutcome = "delivered" if kind == "delivered" else "retrying" if retry_at else "failed"
    return wh.WebhookDeliveryAttempted(
        **described,
        attempt=attempt,
        first_attempt_at=first.isoformat(),
        outcome=outcome,
        status_code=result.status_code,
        error=result.error or (None if kind == "delivered" else f"http_{result.status_code}"),
        latency_ms=result.latency_ms,
        response_excerpt=result.response_excerpt[:EXCERPT_CHARS],
        next_retry_at=retry_at.isoformat() if retry_at else None,
        redelivery_of=command.work.redelivery_of,
    )
