"""The job outcome policy: an attempt's ending to a record and an ack, nak (with its delay) or term. Pure."""

from datetime import UTC, datetime, timedelta

import pytest

from voxledger.transcriber.jobs.outcome import (
    Completed,
    Failed,
    HandedBack,
    Outcome,
    Refused,
    RetryPolicy,
    Superseded,
    decide,
    start_refused,
)

POLICY = RetryPolicy(max_attempts=3, retry_base_s=2.0)
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def outcome_of(ending, delivery: int = 1, jitter: float = 0.0) -> Outcome:
    return decide(ending, delivery, POLICY, jitter, NOW)


def test_a_completed_attempt_is_acked_and_a_superseded_one_is_left_to_its_new_owner():
    assert outcome_of(Completed()) == Outcome(settle="ack")
    assert outcome_of(Superseded()) == Outcome(settle="none")
    assert outcome_of(Refused(code="attempt_superseded")) == Outcome(settle="none")


def test_a_handed_back_job_keeps_its_segments_and_goes_back_at_once():
    assert outcome_of(HandedBack()) == Outcome(settle="nak", record="handed_back")


def test_a_permanent_failure_is_recorded_and_terminated_on_any_delivery():
    for delivery in (1, 3):
        assert outcome_of(Failed(code="audio_corrupt", permanent=True), delivery) == Outcome(
            settle="term", record="failed", code="audio_corrupt"
        )


@pytest.mark.parametrize(("delivery", "jitter", "delay_s"), [(1, 0.0, 1.0), (1, 0.999, 2.0), (2, 0.0, 2.0)])
def test_a_transient_failure_is_retried_with_growing_jittered_backoff(delivery, jitter, delay_s):
    decided = outcome_of(Failed(code="internal_error", permanent=False), delivery, jitter)
    assert (decided.settle, decided.record, decided.code) == ("nak", "retry", "internal_error")
    assert decided.delay_s == pytest.approx(delay_s, abs=0.01)
    assert decided.retry_at == NOW + timedelta(seconds=decided.delay_s)


def test_the_last_delivery_of_a_transient_failure_fails_the_job():
    decided = outcome_of(Failed(code="attempt_timeout", permanent=False), delivery=3)
    assert (decided.settle, decided.record, decided.code, decided.retry_at) == (
        "term",
        "failed",
        "attempt_timeout",
        None,
    )
    assert decided.delay_s == pytest.approx(4.0), "still used to give the message back if the record cannot be appended"


def test_refusals_mid_attempt():
    assert outcome_of(Refused(code="cancel_requested")) == Outcome(settle="ack", record="cancelled")
    assert outcome_of(Refused(code="job_finished")) == Outcome(settle="ack")
    assert outcome_of(Refused(code="recording_deleted")) == Outcome(settle="ack")
    gap = outcome_of(Refused(code="segment_gap"))
    assert (gap.settle, gap.record, gap.code) == ("nak", "retry", "segment_gap"), "never acked while running"


def test_an_attempt_that_cannot_start():
    assert start_refused("job_not_found", POLICY) == Outcome(settle="nak", delay_s=2.0), "history lags: retried"
    assert start_refused("recording_not_found", POLICY).settle == "nak"
    assert start_refused("job_finished", POLICY) == Outcome(settle="ack")
