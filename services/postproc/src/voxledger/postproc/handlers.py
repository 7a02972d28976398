"""Insight runs: the four kinds run concurrently, each with its own timeout, retry and outcome event.

Appends go through the aggregate one at a time (optimistic concurrency); the
work between them runs in parallel. The message is acked only after
InsightsCompleted is appended; a redelivery resumes the kinds left open. Each handler gets the decoded message
in its trace context and returns how the message is settled (runtime/messaging.py).
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping

import structlog
from faststream.nats.message import NatsMessage
from opentelemetry import trace

from voxledger.contracts.decisions import Rejected
from voxledger.contracts.envelope import Envelope, Message
from voxledger.contracts.events import InsightsCompleted, InsightsRequested, TranscriptionCompleted
from voxledger.contracts.failures import public_message
from voxledger.contracts.insights import InsightKind, InsightPayload
from voxledger.postproc.adapters.llm import InvalidOutput, LlmEngine, Unavailable
from voxledger.postproc.domain.runs import (
    CompleteRun,
    FailInsight,
    FinishInsight,
    InsightState,
    JobTranscript,
    OpenRun,
    StartInsight,
)
from voxledger.postproc.settings import PostprocSettings
from voxledger.runtime.aggregates import AggregateRepository, Loaded
from voxledger.runtime.consumers import heartbeat, retry_delay_s
from voxledger.runtime.messaging import ACK, TERM, Nak, Settlement

log = structlog.get_logger(__name__)
tracer = trace.get_tracer("voxledger.postproc")

BuiltinEngine = Callable[..., InsightPayload]


class InsightRunner:
    def __init__(
        self,
        repo: AggregateRepository[InsightState],
        builtin: Mapping[InsightKind, BuiltinEngine],
        llm: LlmEngine | None,
        settings: PostprocSettings,
    ):
        self._repo = repo
        self._builtin = builtin
        self._llm = llm
        self._settings = settings

    async def on_transcription_completed(self, message: Message, msg: NatsMessage) -> Settlement:
        completed = message.body_as(TranscriptionCompleted)
        loaded = await self._repo.load(message.envelope.aggregate_id)
        try:
            await self._repo.execute(loaded, OpenRun(job_id=completed.job_id), message.envelope)
        except Rejected as err:
            log.warning("insights.not_started", job_id=completed.job_id, reason=str(err))
            return TERM
        return await self._run(msg, loaded, completed.job_id, message.envelope)

    async def on_insights_requested(self, message: Message, msg: NatsMessage) -> Settlement:
        requested = message.body_as(InsightsRequested)
        if requested.run_id == requested.job_id:
            return ACK  # the automatic run: its TranscriptionCompleted delivery drives it
        loaded = await self._repo.load(message.envelope.aggregate_id)
        return await self._run(msg, loaded, requested.run_id, message.envelope)

    async def _run(self, msg: NatsMessage, loaded: Loaded[InsightState], run_id: str, cause: Envelope) -> Settlement:
        run = loaded.state.runs.get(run_id)
        if run is None or run.completed or loaded.state.deleted:
            return ACK
        job = loaded.state.jobs[run.job_id]
        structlog.contextvars.bind_contextvars(recording_id=loaded.aggregate_id, job_id=run.job_id, run_id=run_id)
        with tracer.start_as_current_span("insights"):
            try:
                async with heartbeat(msg, self._settings.heartbeat_s):
                    outcomes = await asyncio.gather(
                        *(self._kind(loaded, run_id, kind, job, cause) for kind in run.open_kinds),
                        return_exceptions=True,
                    )
                    if errors := [o for o in outcomes if isinstance(o, BaseException)]:
                        raise errors[0]
                    completed = await self._repo.execute(loaded, CompleteRun(run_id=run_id), cause)
            except Rejected as err:
                log.info("insights.run_closed", reason=str(err))  # completed elsewhere meanwhile
                return ACK
            except Exception:
                log.exception("insights.run_interrupted")  # the log is unreachable: redelivery resumes
                return Nak(self._settings.retry_base_s * 4)
            summary = completed[0].body
            assert isinstance(summary, InsightsCompleted)
            log.info("insights.completed", ready=summary.ready, failed=summary.failed)
            return ACK

    async def _kind(self, loaded, run_id: str, kind: InsightKind, job: JobTranscript, cause: Envelope) -> None:
        await self._repo.execute(loaded, StartInsight(run_id=run_id, kind=kind), cause)
        started = time.monotonic()
        outcome: FailInsight | FinishInsight
        try:
            engine, payload = await self._produce(kind, job)
        except TimeoutError:
            limit = self._settings.insight_timeout_s
            log.warning("insight.timed_out", kind=kind, limit_s=limit)
            outcome = FailInsight(
                run_id=run_id, kind=kind, error_code="insight_timeout", message=public_message("insight_timeout")
            )
        except Exception:
            log.exception("insight.failed", kind=kind)
            outcome = FailInsight(
                run_id=run_id, kind=kind, error_code="engine_error", message=public_message("engine_error")
            )
        else:
            elapsed = round(time.monotonic() - started, 3)
            outcome = FinishInsight(run_id=run_id, kind=kind, engine=engine, payload=payload, processing_s=elapsed)
        await self._repo.execute(loaded, outcome, cause)

    async def _produce(self, kind: InsightKind, job: JobTranscript) -> tuple[str, InsightPayload]:
        """The LLM where configured and able; the built-in engine otherwise, or when the LLM fails."""
        if (llm := self._llm) is not None and kind in llm.kinds:
            try:
                payload = await self._attempts(lambda: llm.run(kind, job.lines), retry_on=(Unavailable,))
                return llm.name, payload
            except (Unavailable, InvalidOutput, TimeoutError) as err:
                log.warning("insight.llm_fallback", kind=kind, reason=str(err))
        builtin = self._builtin[kind]
        payload = await self._attempts(
            lambda: asyncio.to_thread(builtin, job.lines, job.duration_s, job.named_turns()), retry_on=()
        )
        return "builtin", payload

    async def _attempts(self, work: Callable[[], Awaitable[InsightPayload]], retry_on: tuple) -> InsightPayload:
        """Runs `work` under the per-kind timeout, retrying timeouts and `retry_on` errors with backoff."""
        attempts = self._settings.insight_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await asyncio.wait_for(work(), timeout=self._settings.insight_timeout_s)
            except (TimeoutError, *retry_on):
                if attempt == attempts:
                    raise
                await asyncio.sleep(retry_delay_s(attempt, self._settings.retry_base_s, random.random()))
        raise AssertionError("unreachable")
