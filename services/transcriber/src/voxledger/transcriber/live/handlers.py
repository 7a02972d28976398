"""One live session on this worker: claim it, follow its audio, run the streaming policy, append finals, end it.

Interims go out on core NATS (transient); finals are appended to the Recording aggregate with optimistic
concurrency, so a session taken over by another worker continues after the last final, never twice.
"""

import asyncio
import contextlib
import time
from datetime import UTC, datetime

import msgspec
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg

from voxledger.contracts import subjects
from voxledger.contracts.decisions import Rejected
from voxledger.contracts.envelope import Envelope
from voxledger.contracts.events import LiveEndReason
from voxledger.contracts.failures import public_message
from voxledger.contracts.ids import new_id
from voxledger.contracts.live import INTERIM_KIND, KIND_HEADER, REASON_HEADER, TURN_KIND, LiveSessionSpec
from voxledger.runtime.aggregates import AggregateRepository, Loaded
from voxledger.runtime.vault import Vault
from voxledger.transcriber.adapters.model import ModelCache, ModelUnavailable, hypothesize
from voxledger.transcriber.live.adapters import frames
from voxledger.transcriber.live.domain.activity import ActivityRules, SessionActivity
from voxledger.transcriber.live.domain.samples import to_samples
from voxledger.transcriber.live.domain.session import (
    Claim,
    End,
    Fail,
    LiveSession,
    RecordFinals,
    SavedAudio,
    claims_exhausted,
    end_reason,
)
from voxledger.transcriber.live.domain.streaming import SAMPLE_RATE, PolicyConfig, Step, StreamingPolicy
from voxledger.transcriber.live.domain.turns import TurnConfig, TurnTracker
from voxledger.transcriber.live.settings import LiveSettings

log = structlog.get_logger(__name__)
_encode = msgspec.json.Encoder().encode


class SessionRunner:
    def __init__(
        self,
        nc: Client,
        repo: AggregateRepository[LiveSession],
        models: ModelCache,
        settings: LiveSettings,
        worker: str,
        session_id: str,
        spec: LiveSessionSpec,
        vault: Vault,
    ):
        self._nc, self._js, self._repo, self._models = nc, nc.jetstream(), repo, models
        self._settings, self._worker = settings, worker
        self._session_id, self._spec = session_id, spec
        self._vault = vault
        self._model_name = spec.options.model or settings.model
        self._queue: asyncio.Queue[Msg] = asyncio.Queue()
        self._turns = self._turn_tracker(offset_s=0.0)
        self._cause = Envelope(
            event_id=new_id(),
            type="LiveSessionClaimed",
            schema_version=1,
            aggregate_id=session_id,
            tenant_id=spec.tenant_id,
            occurred_at=datetime.now(UTC),
            traceparent=spec.traceparent,
        )

    async def run(self, last_try: bool = False) -> None:
        """Serves the session to its end. A session that cannot be served ends as failed with a code:
        its model cannot load, workers took it too often, or this was the last try and it failed again."""
        started = time.monotonic()
        loaded = await self._repo.load(self._session_id)
        if loaded.state.ended:
            return
        if claims_exhausted(loaded.state, self._settings.live_max_claims):
            log.warning("live.claims_exhausted", claims=loaded.state.claims)
            await self._fail(loaded, "live_session_failed")
            return
        try:
            await self._serve(loaded, started)
        except Rejected:
            raise  # the aggregate refused a write: ended elsewhere, or taken over
        except ModelUnavailable as err:
            log.warning("live.model_unavailable", model=self._model_name, reason=str(err))
            await self._fail(loaded, err.code)
        except Exception:
            if not last_try:
                raise
            log.exception("live.session_failed_for_good")
            await self._fail(loaded, "live_session_failed")

    async def _serve(self, loaded: Loaded, started: float) -> None:
        claimed = await self._repo.execute(
            loaded, Claim(spec=self._spec, worker=self._worker, model=self._model_name), self._cause
        )
        self._cause = claimed[0].envelope if claimed else self._cause
        model = await asyncio.to_thread(self._models.get, self._model_name)
        state = loaded.state
        config = PolicyConfig(
            min_chunk_s=self._settings.live_min_chunk_s, max_buffer_s=self._settings.live_max_buffer_s
        )
        policy = StreamingPolicy(config, first_index=state.next_index, offset_s=state.finalized_until_s)
        self._turns = self._turn_tracker(offset_s=state.finalized_until_s)
        log.info("live.session_claimed", resumed_from_s=state.finalized_until_s, next_index=state.next_index)
        sub = await frames.follow(self._js, self._vault, self._session_id, self._queue.put)
        try:
            reason = await self._transcribe(
                loaded, model, policy, skip_samples=int(state.finalized_until_s * SAMPLE_RATE)
            )
        finally:
            await sub.unsubscribe()
        await self._end(loaded, reason, time.monotonic() - started)

    async def _transcribe(self, loaded: Loaded, model, policy: StreamingPolicy, skip_samples: int) -> LiveEndReason:
        """Feeds the policy until the end marker or inactivity; returns the end reason."""
        seen = 0  # samples of the session so far, counting those skipped as already final
        last_audio = time.monotonic()
        activity = SessionActivity(self._activity_rules(), started_at=last_audio)
        while True:
            try:
                batch = [await asyncio.wait_for(self._queue.get(), timeout=0.5)]
            except TimeoutError:
                batch = []
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            for msg in batch:
                if frames.is_end(msg):
                    await self._step(loaded, model, policy, flush=True)
                    return end_reason((msg.headers or {}).get(REASON_HEADER))
                if frames.is_finalize(msg):
                    await self._step(loaded, model, policy, flush=True)  # as at the end, and the session goes on
                    continue
                samples = to_samples(msg.data, self._spec.encoding, self._spec.sample_rate)
                fresh = samples[max(0, skip_samples - seen) :]
                seen += len(samples)
                if len(fresh):
                    policy.add_audio(fresh)
                last_audio = time.monotonic()
                activity.add(last_audio, len(samples) / SAMPLE_RATE)
            if policy.due():
                await self._step(loaded, model, policy)
            if (reason := self._ends_now(activity, last_audio)) is not None:
                log.info("live.session_ending", reason=reason)
                await self._step(loaded, model, policy, flush=True)
                return reason

    def _turn_tracker(self, offset_s: float) -> TurnTracker:
        config = TurnConfig(endpointing_s=self._spec.endpointing_s, utterance_end_s=self._spec.utterance_end_s)
        return TurnTracker(config, offset_s=offset_s)

    def _activity_rules(self) -> ActivityRules:
        s = self._settings
        return ActivityRules(s.live_max_wall_s, s.live_audio_window_s, s.live_min_audio_ratio)

    def _ends_now(self, activity: SessionActivity, last_audio: float) -> LiveEndReason | None:
        """Silent too long, held too long, or too little audio for the slot it holds."""
        now = time.monotonic()
        if now - last_audio > self._settings.live_inactivity_timeout_s:
            return "inactivity"
        return activity.verdict(now)

    async def _step(self, loaded: Loaded, model, policy: StreamingPolicy, flush: bool = False) -> None:
        words = []
        if len(policy.buffer):
            words = await asyncio.to_thread(
                hypothesize, model, policy.buffer.copy(), self._spec.options, self._settings.live_beam_size
            )
        first_index = policy.next_index
        step: Step = policy.update(words, flush=flush)
        turns = self._turns.observe(step, first_index, policy.received_until_s, ended=flush)
        if step.finals:
            finals = RecordFinals(segments=step.finals, speech_final=turns.speech_final)
            await self._repo.execute(loaded, finals, self._cause)
        for turn in turns.events:  # never sealed: a turn event holds times, no text
            headers = {KIND_HEADER: TURN_KIND}
            await self._nc.publish(subjects.live_interim_subject(self._session_id), _encode(turn), headers=headers)
        if step.interim is not None and not flush:
            payload, headers = await self._vault.seal_bytes(self._session_id, INTERIM_KIND, "", _encode(step.interim))
            await self._nc.publish(subjects.live_interim_subject(self._session_id), payload, headers=headers)

    async def _end(self, loaded: Loaded, reason: LiveEndReason, processing_s: float) -> None:
        blob_key, digest, size, duration_s = await frames.save_recording(
            self._js, self._vault, self._session_id, self._spec
        )
        end = End(
            reason=reason,
            duration_s=duration_s,
            blob_key=blob_key,
            blob_digest=digest,
            size_bytes=size,
            language=self._spec.options.language or "en",
            processing_s=round(processing_s, 3),
        )
        await self._repo.execute(loaded, end, self._cause)
        await frames.purge(self._js, self._session_id)
        log.info("live.session_ended", reason=reason, duration_s=duration_s, finals=loaded.state.next_index)

    async def _fail(self, loaded: Loaded, code: str) -> None:
        """Ends the session as failed: the audio so far is kept as the recording, the client reads the code."""
        try:
            blob_key, digest, size, duration_s = await frames.save_recording(
                self._js, self._vault, self._session_id, self._spec
            )
            saved = SavedAudio(duration_s=duration_s, blob_key=blob_key, blob_digest=digest, size_bytes=size)
        except Exception:
            log.exception("live.audio_not_saved")
            saved = SavedAudio()
        await self._repo.execute(loaded, Fail(error_code=code, message=public_message(code), audio=saved), self._cause)
        with contextlib.suppress(Exception):
            await frames.purge(self._js, self._session_id)
        log.warning("live.session_ended_failed", code=code, duration_s=saved.duration_s)
