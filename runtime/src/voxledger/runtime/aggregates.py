"""Load an aggregate's history, decide, append; on a concurrency conflict reload and decide again.

Services bring a pure `Decider` (contracts.decisions); this is the IO around it, the one repository every
aggregate's handler uses, with the one conflict-retry rule (`retry_on_conflict`).
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from voxledger.contracts.decisions import Decider, fold
from voxledger.contracts.envelope import Envelope, Message, seal
from voxledger.contracts.events import Event
from voxledger.runtime.eventstore import ConcurrencyConflict, EventStore

State = TypeVar("State")
T = TypeVar("T")
MAX_CONFLICT_RETRIES = 10


async def retry_on_conflict(attempt: Callable[[], Awaitable[T]], what: str) -> T:
    """`attempt` until it does not meet a concurrent writer, at most MAX_CONFLICT_RETRIES times.

    `attempt` must decide again from a fresh load each time: what another writer appended may change it.
    """
    for _ in range(MAX_CONFLICT_RETRIES):
        try:
            return await attempt()
        except ConcurrencyConflict:
            continue
    raise ConcurrencyConflict(f"{what}: too many concurrent writers")


class Loaded(Generic[State]):
    """An aggregate's state and the stream sequence it reflects; long-running work keeps it between appends.

    The state is a frozen value: an append replaces it, so whoever read it before keeps what it read.
    """

    def __init__(self, aggregate_id: str, state: State, seq: int, owner: str | None = None):
        self.aggregate_id = aggregate_id
        self.state = state
        self.seq = seq
        self.owner = owner  # the tenant of the aggregate's first event; None while it has none
        self.lock = asyncio.Lock()  # one append at a time from this process, so tasks don't race each other


class AggregateRepository(Generic[State]):
    def __init__(self, store: EventStore, aggregate: str, decider: Decider[Any, Any, State]):
        self._store = store
        self._aggregate = aggregate
        self.decider = decider

    async def load(self, aggregate_id: str) -> Loaded[State]:
        history, seq = await self._store.load(self._aggregate, aggregate_id)
        owner = history[0].envelope.tenant_id if history else None
        state = self.decider.fold(m.body for m in history if isinstance(m.body, Event))
        return Loaded(aggregate_id, state, seq, owner)

    async def execute(
        self, loaded: Loaded[State], command: Any, cause: Envelope | None = None, tenant_id: str | None = None
    ) -> list[Message]:
        """Decide against `loaded`, append, and advance `loaded` past the new events.

        The events carry `cause`'s tenant and trace; without a cause, `tenant_id` (or the aggregate's owner).
        """
        async with loaded.lock:
            return await retry_on_conflict(
                lambda: self._append(loaded, command, cause, tenant_id), f"{self._aggregate} {loaded.aggregate_id}"
            )

    async def _append(
        self, loaded: Loaded[State], command: Any, cause: Envelope | None, tenant_id: str | None
    ) -> list[Message]:
        produced = self.decider.decide(command, loaded.state)
        tenant = cause.tenant_id if cause is not None else tenant_id or loaded.owner
        assert tenant is not None, "an event without a tenant"
        messages = [
            seal(
                event,
                aggregate_id=loaded.aggregate_id,
                tenant_id=tenant,
                causation_id=cause.event_id if cause else None,
                correlation_id=(cause.correlation_id or cause.event_id) if cause else None,
                traceparent=cause.traceparent if cause else None,
                commit_remaining=len(produced) - 1 - i,
            )
            for i, event in enumerate(produced)
        ]
        try:
            loaded.seq = await self._store.append(self._aggregate, loaded.aggregate_id, messages, loaded.seq)
        except ConcurrencyConflict:
            fresh = await self.load(loaded.aggregate_id)  # another writer's events: the next try decides on them
            loaded.state, loaded.seq = fresh.state, fresh.seq
            raise
        loaded.state = fold(self.decider.evolve, loaded.state, produced)
        return messages
