"""How a held unit of work ends: run it, record what the outcome policy (outcome.py) says, settle its message.

Acks come last, once the effects are appended. Permanent failures append a Failed event before the
message is terminated; transient ones are NAKed with backoff, within the consumer's bounded MaxDeliver.
"""

import contextlib

import structlog
from faststream.nats.message import NatsMessage
from nats.js import JetStreamContext

from voxledger.contracts.decisions import Rejected
from voxledger.runtime.leases import Lease, LeaseLost
from voxledger.transcriber.adapters.model_process import ModelPool
from voxledger.transcriber.domain.limits import SpeedEstimate
from voxledger.transcriber.jobs import outcome
from voxledger.transcriber.jobs.attempt import Attempt
from voxledger.transcriber.jobs.chunk import ChunkRun
from voxledger.transcriber.jobs.signals import AttemptFailed, HandBack, Signals

log = structlog.get_logger(__name__)

Work = Attempt | ChunkRun  # what the runner holds, runs and settles: a job's attempt, or one of its chunks


class HeldJob:
    """A delivered job and its lease. The lease is freed before the message goes back,
    so the worker that gets it next finds the lease free instead of waiting out its TTL."""

    def __init__(self, msg: NatsMessage, lease: Lease):
        self.msg = msg
        self.lease = lease
        self.delivery = msg.raw_message.metadata.num_delivered

    async def release(self) -> None:
        with contextlib.suppress(Exception):
            await self.lease.release()

    async def ack(self) -> None:
        await self.msg.ack()
        await self.release()

    async def reject(self) -> None:
        await self.msg.reject()
        await self.release()

    async def give_back(self, delay_s: float | None = None) -> None:
        await self.release()
        await self.msg.nack(delay=delay_s)


class Settler:
    """Runs a held attempt or chunk in the model pool and turns how it ended into events and a settled message."""

    def __init__(self, js: JetStreamContext, pool: ModelPool, speed: SpeedEstimate, max_attempts: int):
        self._js = js
        self._pool = pool
        self._speed = speed
        self._max_attempts = max_attempts

    async def run(self, held: HeldJob, attempt: Work, model_name: str, signals: Signals) -> outcome.Ending:
        """Runs the attempt; how it ended, with what went wrong logged here (the tenant sees the code only)."""
        try:
            await attempt.run(self._js, self._pool, model_name, self._speed, signals)
        except LeaseLost as err:
            log.warning("job.superseded", reason=str(err))  # another worker owns the job: touch nothing
            return outcome.Superseded()
        except HandBack:
            return outcome.HandedBack()
        except AttemptFailed as err:
            if err.permanent:
                log.warning("job.failed_permanently", code=err.code, reason=str(err))
            else:
                self._log_transient(held, err.code, err)
            return outcome.Failed(code=err.code, permanent=err.permanent)
        except Rejected as err:
            if err.code == "attempt_superseded":
                log.warning("job.superseded", reason=err.message)  # the newer attempt owns job and message
            elif err.code in outcome.SETTLED_ELSEWHERE:
                log.info("job.stopped", reason=err.message)
            elif err.code != "cancel_requested":
                self._log_transient(held, err.code, err)
            return outcome.Refused(code=err.code)
        except Exception as err:
            self._log_transient(held, "internal_error", err)
            return outcome.Failed(code="internal_error", permanent=False)
        return outcome.Completed()

    def _log_transient(self, held: HeldJob, code: str, err: Exception) -> None:
        final = held.delivery >= self._max_attempts
        log.warning("job.attempt_failed", attempt=held.delivery, final=final, code=code, exc_info=err)

    async def record(self, held: HeldJob, attempt: Work, decided: outcome.Outcome) -> bool:
        """Appends what the outcome records; False if the message must now be left alone."""
        match decided.record:
            case "handed_back":
                await attempt.hand_back()
                log.info("job.handed_back")  # its segments so far are in the log: the next worker resumes
            case "cancelled":
                await self.cancel(attempt)
            case "failed" | "retry":
                return await self._record_failure(held, attempt, decided)
        return True

    async def _record_failure(self, held: HeldJob, attempt: Work, decided: outcome.Outcome) -> bool:
        retry_at = decided.retry_at.isoformat() if decided.retry_at else None
        try:
            await attempt.fail(decided.code or "internal_error", retry_at)
        except Rejected as refused:
            log.warning("job.failure_refused", reason=refused.message)  # superseded or settled meanwhile
            if refused.code in outcome.SETTLED_ELSEWHERE:
                await held.ack()  # deleted or finished: nothing is left for this message to do
            return False
        except Exception:
            log.exception("job.failure_not_recorded")  # the broker itself is unreachable: redelivery will retry
            await held.give_back(decided.delay_s)
            return False
        return True

    async def cancel(self, attempt: Work) -> None:
        try:
            await attempt.cancel()
            log.info("job.cancelled")
        except Rejected as settled:
            log.info("job.cancel_already_settled", reason=settled.message)

    @staticmethod
    async def settle(held: HeldJob, decided: outcome.Outcome) -> None:
        match decided.settle:
            case "ack":
                await held.ack()
            case "term":
                await held.reject()
            case "nak":
                await held.give_back(decided.delay_s)
