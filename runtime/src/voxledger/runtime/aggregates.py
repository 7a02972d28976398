"""Load an aggregate's history, decide, append; on a concurrency conflict reload and decide again.

Services bring their own pure `fold`, `decide` and `evolve`; this is the IO around them.
"""

import asyncio
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from voxledger.contracts.envelope import Envelope, Message, seal
from voxledger.contracts.events import Event
from voxledger.runtime.eventstore import ConcurrencyConflict, EventStore

State = TypeVar("State")
MAX_CONFLICT_RETRIES = 10


class Loaded(Generic[State]):
    """An aggregate's state and the stream sequence it reflects; long-running work keeps it between appends."""

    def __init__(self, aggregate_id: str, state: State, seq: int):
        self.aggregate_id = aggregate_id
        self.state = state
        self.seq = seq
        self.lock = asyncio.Lock()  # one append at a time from this process, so tasks don't race each other


class AggregateRepository(Generic[State]):
    def __init__(
        self,
        store: EventStore,
        aggregate: str,
        fold: Callable[[list[Event]], State],
        decide: Callable[[Any, State], list[Event]],
        evolve: Callable[[State, Event], State],
    ):
        self._store = store
        self._aggregate = aggregate
        self._fold = fold
        self._decide = decide
        self._evolve = evolve

    async def load(self, aggregate_id: str) -> Loaded[State]:
        history, seq = await self._store.load(self._aggregate, aggregate_id)
        return Loaded(aggregate_id, self._fold([m.body for m in history if isinstance(m.body, Event)]), seq)

    async def execute(self, loaded: Loaded[State], command: Any, cause: Envelope) -> list[Message]:
        """Decide against `loaded`, append, and advance `loaded` past the new events."""
        async with loaded.lock:
            for _ in range(MAX_CONFLICT_RETRIES):
                produced = self._decide(command, loaded.state)
                messages = [
                    seal(
                        event,
                        aggregate_id=loaded.aggregate_id,
                        tenant_id=cause.tenant_id,
                        causation_id=cause.event_id,
                        correlation_id=cause.correlation_id or cause.event_id,
                        traceparent=cause.traceparent,
                        commit_remaining=len(produced) - 1 - i,
                    )
                    for i, event in enumerate(produced)
                ]
                try:
                    seq = await self._store.append(self._aggregate, loaded.aggregate_id, messages, loaded.seq)
                except ConcurrencyConflict:
                    fresh = await self.load(loaded.aggregate_id)
                    loaded.state, loaded.seq = fresh.state, fresh.seq
                    continue
                for event in produced:
                    loaded.state = self._evolve(loaded.state, event)
                loaded.seq = seq
                return messages
        raise ConcurrencyConflict(f"{self._aggregate} {loaded.aggregate_id}: too many concurrent writers")
