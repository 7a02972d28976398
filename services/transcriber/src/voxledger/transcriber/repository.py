"""Load a recording's history, decide, append; on a concurrency conflict reload and decide again."""

import msgspec

from voxledger.contracts import events as ev
from voxledger.contracts import subjects
from voxledger.contracts.envelope import Envelope, Message, seal
from voxledger.runtime.jetstream import ConcurrencyConflict, EventStore
from voxledger.transcriber.domain.recording import Decision, Recording, decide, evolve, fold

MAX_CONFLICT_RETRIES = 10


class Loaded(msgspec.Struct, kw_only=True):
    """An aggregate's state and the stream sequence it reflects; a worker keeps it while it runs a job."""

    recording_id: str
    state: Recording
    seq: int


class RecordingRepository:
    def __init__(self, store: EventStore):
        self._store = store

    async def load(self, recording_id: str) -> Loaded:
        history, seq = await self._store.load(subjects.RECORDING, recording_id)
        return Loaded(recording_id=recording_id, state=fold([m.body for m in history]), seq=seq)

    async def execute(self, loaded: Loaded, decision: Decision, cause: Envelope) -> list[Message]:
        """Decide against `loaded`, append, and advance `loaded` past the new events."""
        for _ in range(MAX_CONFLICT_RETRIES):
            produced: list[ev.Event] = decide(decision, loaded.state)
            messages = [
                seal(
                    event,
                    aggregate_id=loaded.recording_id,
                    tenant_id=cause.tenant_id,
                    causation_id=cause.event_id,
                    correlation_id=cause.correlation_id or cause.event_id,
                    traceparent=cause.traceparent,
                )
                for event in produced
            ]
            try:
                seq = await self._store.append(subjects.RECORDING, loaded.recording_id, messages, loaded.seq)
            except ConcurrencyConflict:
                fresh = await self.load(loaded.recording_id)
                loaded.state, loaded.seq = fresh.state, fresh.seq
                continue
            for event in produced:
                loaded.state = evolve(loaded.state, event)
            loaded.seq = seq
            return messages
        raise ConcurrencyConflict(f"recording {loaded.recording_id}: too many concurrent writers")
