"""Queue positions and ETAs of queued jobs, pure, under the transcription dispatcher's rule
(services/transcriber dispatch/fairness.py; tested against it on the same inputs):

- tenants take turns: among those with queued jobs, the one whose last job started longest ago goes first
  (a tenant none of whose jobs ever started: first of all; ties by tenant id);
- within a tenant: high, then normal, then low priority, then the oldest.

Rounds follow: every tenant with queued jobs gets its next one, in that order, before any gets a second.
So the job that is a tenant's k-th (from 0) has every tenant's first k jobs ahead of it (as many as each has),
and, in round k, those of the tenants ranked before its own that still have a k-th job.
"""

import bisect
import heapq
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from voxledger.contracts.events import PRIORITY_RANK


@dataclass(frozen=True)
class Queued:
    job_id: str
    tenant: str
    priority: str
    order: tuple[int, str]  # the age the dispatcher sees: (stream sequence it was queued at, job id)


def positions(queued: Iterable[Queued], last_start: Mapping[str, float]) -> dict[str, int]:
    """Each queued job's place in the shared queue; 1: the next job a free worker takes.
    `last_start`: when each tenant's last job started (any increasing clock); absent: never."""
    by_tenant: dict[str, list[Queued]] = {}
    for job in queued:
        by_tenant.setdefault(job.tenant, []).append(job)
    ranked = sorted(by_tenant, key=lambda t: (t in last_start, last_start.get(t, 0.0), t))
    counts = sorted(len(jobs) for jobs in by_tenant.values())
    below = list(itertools.accumulate(counts, initial=0))  # below[i]: the jobs of the i smallest backlogs
    ahead: list[int] = []  # the backlogs of the tenants ranked before this one, sorted
    found: dict[str, int] = {}
    for tenant in ranked:
        jobs = sorted(by_tenant[tenant], key=lambda j: (PRIORITY_RANK.get(j.priority, 1), j.order))
        for k, job in enumerate(jobs):
            shorter = bisect.bisect_left(counts, k)  # backlogs of fewer than k jobs: all of each went before
            earlier_rounds = below[shorter] + k * (len(counts) - shorter)
            this_round = len(ahead) - bisect.bisect_right(ahead, k)  # those ranked before with a k-th job
            found[job.job_id] = earlier_rounds + this_round + 1
        bisect.insort(ahead, len(jobs))
    return found


def queued_eta_s(position: int, running_left_s: list[float | None], typical_s: float | None) -> float | None:
    """Seconds until a queued job completes: each busy worker frees up when its running job ends (the running
    job's own ETA, else half a typical job), then takes the jobs ahead in turn, each a typical job long; this
    one starts on the slot that frees first after them. None until a job has completed to measure by."""
    if typical_s is None:
        return None
    free_at = [typical_s / 2 if left is None else left for left in running_left_s] or [0.0]
    heapq.heapify(free_at)
    for _ in range(position - 1):
        heapq.heapreplace(free_at, free_at[0] + typical_s)
    return round(free_at[0] + typical_s, 2)


@dataclass(frozen=True)
class QueueState:
    """What positions and ETAs are computed from, read at one moment."""

    queued: list[Queued]  # the jobs the dispatcher holds: queued and never started
    last_start: dict[str, float]  # per tenant with queued jobs, its last job's start (epoch seconds)
    running_left_s: list[float | None]  # each running job's ETA
    typical_s: float | None  # a typical job's processing time, from recent completions


def view(state: QueueState) -> dict[str, tuple[int, float | None]]:
    """job id -> (queue position, ETA in seconds) for every queued job."""
    return {
        job_id: (position, queued_eta_s(position, state.running_left_s, state.typical_s))
        for job_id, position in positions(state.queued, state.last_start).items()
    }
