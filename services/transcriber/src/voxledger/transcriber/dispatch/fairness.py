"""The fair choice, pure: which queued unit of work a free worker gets next.

Among the tenants with work waiting, the one dispatched to longest ago goes first (never dispatched to:
first of all; ties by tenant id). Within that tenant: highest priority (high, normal, low), then oldest
(stream sequence). So tenant A's backlog of 50 cannot hold back tenant B's one new job: B's is next.
The gateway's queue positions (gateway/domain/queue.py) follow the same rule and are tested against this.
"""

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from voxledger.contracts.events import PRIORITY_RANK, Priority


def work_priority(envelope_type: str, body: Mapping[str, Any]) -> Priority:
    """The priority a unit of work carries in its (clear) body; unknown or missing: normal."""
    match envelope_type:
        case "TranscriptionRequested":
            raw = (body.get("options") or {}).get("priority")
        case _:
            raw = body.get("priority")
    return raw if raw in PRIORITY_RANK else "normal"


@dataclass(frozen=True)
class Work:
    seq: int  # the source stream sequence: its age, and its identity
    tenant: str
    priority: Priority = "normal"
    job_id: str = field(default="", compare=False)  # what a cancel names


@dataclass
class FairQueue:
    """The pending work per tenant, and when each tenant was last dispatched to (any increasing clock)."""

    last: dict[str, float] = field(default_factory=dict)
    _by_tenant: dict[str, list[tuple[int, int, Work]]] = field(default_factory=dict)
    _seqs: set[int] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self._seqs)

    def __contains__(self, seq: int) -> bool:
        return seq in self._seqs

    def add(self, work: Work) -> bool:
        """Queues the work; False if that sequence is already queued (a redelivery)."""
        if work.seq in self._seqs:
            return False
        self._seqs.add(work.seq)
        heapq.heappush(self._by_tenant.setdefault(work.tenant, []), (PRIORITY_RANK[work.priority], work.seq, work))
        return True

    def discard(self, seq: int) -> bool:
        """Takes that work off the queue (its job was cancelled); False if it is not queued."""
        if seq not in self._seqs:
            return False
        self._seqs.discard(seq)
        for tenant, heap in list(self._by_tenant.items()):
            if any(item[1] == seq for item in heap):
                heap[:] = [item for item in heap if item[1] != seq]
                heapq.heapify(heap)
                if not heap:
                    del self._by_tenant[tenant]
        return True

    def next_tenant(self) -> str | None:
        waiting = [t for t, heap in self._by_tenant.items() if heap]
        return min(waiting, key=lambda t: (t in self.last, self.last.get(t, 0.0), t), default=None)

    def pop(self, now: float) -> Work | None:
        """The next work to dispatch, taken off the queue; its tenant counts as dispatched to at `now`."""
        if (tenant := self.next_tenant()) is None:
            return None
        heap = self._by_tenant[tenant]
        _, _, work = heapq.heappop(heap)
        if not heap:
            del self._by_tenant[tenant]
        self._seqs.discard(work.seq)
        self.last[tenant] = now
        return work


def dispatch_order(pending: Iterable[Work], last: Mapping[str, float] | None = None) -> list[int]:
    """The sequences in the order the dispatcher hands them out, if no new work arrives meanwhile."""
    queue = FairQueue(last=dict(last or {}))
    for work in pending:
        queue.add(work)
    start = max(queue.last.values(), default=0.0)
    order: list[int] = []
    while (popped := queue.pop(start + len(order) + 1)) is not None:
        order.append(popped.seq)
    return order
