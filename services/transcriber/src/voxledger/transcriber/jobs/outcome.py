"""The outcome policy: how an attempt's ending turns into what the log records and what happens to the
job's message (ack, nak with a delay, term, or nothing at all). Pure: the runner does the IO.

Permanent failures are recorded and terminated at once. Transient ones are retried with exponential
backoff until the job's deliveries run out (`max_attempts`), then recorded as the job's failure.
"""

from datetime import datetime, timedelta
from typing import Literal

import msgspec

from voxledger.runtime.consumers import retry_delay_s

# Refusals that mean the job needs nothing more from this attempt: it ended, or its recording is gone.
# A chunk recorded by another worker first is settled too.
SETTLED_ELSEWHERE = frozenset({"job_finished", "recording_deleted", "chunk_recorded"})


# --- How an attempt ended ---


class Completed(msgspec.Struct, frozen=True):
    """The attempt appended its completion."""


class Superseded(msgspec.Struct, frozen=True):
    """Another worker owns the job now (its lease was lost, or a later attempt started)."""


class HandedBack(msgspec.Struct, frozen=True):
    """The worker is shutting down: the job goes back so that another worker resumes it now."""


class Failed(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    permanent: bool


class Refused(msgspec.Struct, frozen=True, kw_only=True):
    """The aggregate refused one of the attempt's writes, with this code."""

    code: str


Ending = Completed | Superseded | HandedBack | Failed | Refused


# --- What to do about it ---

Settle = Literal["ack", "nak", "term", "none"]  # none: the message belongs to someone else now
Record = Literal["none", "failed", "retry", "cancelled", "handed_back"]


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    settle: Settle
    record: Record = "none"  # appended before the message is settled
    code: str | None = None
    delay_s: float | None = None  # of the nak; also the one used when the record cannot be appended
    retry_at: datetime | None = None  # with record="retry"


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    max_attempts: int
    retry_base_s: float


def decide(ending: Ending, delivery: int, policy: RetryPolicy, jitter: float, now: datetime) -> Outcome:
    """`delivery` counts this message's deliveries from 1; `jitter` in [0, 1) spreads the retries."""
    match ending:
        case Completed():
            return Outcome(settle="ack")
        case Superseded():
            return Outcome(settle="none")
        case HandedBack():
            return Outcome(settle="nak", record="handed_back")  # its segments so far are kept
        case Failed(code=code, permanent=True):
            return Outcome(settle="term", record="failed", code=code)
        case Failed(code=code):
            return transient(code, delivery, policy, jitter, now)
        case Refused(code="attempt_superseded"):
            return Outcome(settle="none")  # the newer attempt owns job and message
        case Refused(code="cancel_requested"):
            return Outcome(settle="ack", record="cancelled")
        case Refused(code=code) if code in SETTLED_ELSEWHERE:
            return Outcome(settle="ack")
        case Refused(code=code):
            # Unexpected (a segment gap): never leave the job "running" with its message acked.
            return transient(code, delivery, policy, jitter, now)
    raise TypeError(f"unknown ending {ending!r}")


def transient(code: str, delivery: int, policy: RetryPolicy, jitter: float, now: datetime) -> Outcome:
    """Retried after a growing delay; the last delivery records the job's failure instead."""
    delay_s = retry_delay_s(delivery, policy.retry_base_s, jitter)
    if delivery >= policy.max_attempts:
        return Outcome(settle="term", record="failed", code=code, delay_s=delay_s)
    return Outcome(settle="nak", record="retry", code=code, delay_s=delay_s, retry_at=now + timedelta(seconds=delay_s))


def start_refused(code: str, policy: RetryPolicy) -> Outcome:
    """The attempt could not even start: its history is missing (a transient read problem, since the
    request event exists), or the job finished, was cancelled or deleted meanwhile (nothing to do)."""
    if code in ("recording_not_found", "job_not_found"):
        return Outcome(settle="nak", delay_s=policy.retry_base_s)
    return Outcome(settle="ack")
