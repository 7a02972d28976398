"""Queue positions and ETAs, pure: the position the gateway shows is the order the dispatcher's own fair choice
(services/transcriber dispatch/fairness.py) hands the jobs out in, on the same inputs."""

import random

import pytest

from voxledger.gateway.domain.errors import Unacceptable
from voxledger.gateway.domain.options import check_priority
from voxledger.gateway.domain.queue import Queued, positions, queued_eta_s
from voxledger.transcriber.dispatch.fairness import Work, dispatch_order

PRIORITIES = ("high", "normal", "low")


def _random_queue(rng: random.Random) -> tuple[list[Queued], dict[str, float]]:
    tenants = [f"t{n}" for n in range(rng.randint(1, 6))]
    jobs = [
        Queued(f"job-{seq:04d}", rng.choice(tenants), rng.choice(PRIORITIES), (seq, f"job-{seq:04d}"))
        for seq in rng.sample(range(1, 500), rng.randint(1, 40))
    ]
    # Some tenants started a job before (some at the same moment), some never did.
    last = {t: float(rng.choice((10, 20, 20, 30))) for t in tenants if rng.random() < 0.6}
    return jobs, last


@pytest.mark.parametrize("seed", range(200))
def test_every_position_is_the_order_the_dispatcher_hands_the_job_out(seed):
    jobs, last = _random_queue(random.Random(seed))
    order = dispatch_order([Work(j.order[0], j.tenant, j.priority) for j in jobs], last)  # type: ignore[arg-type]
    by_seq = {j.order[0]: j.job_id for j in jobs}
    shown = positions(jobs, last)
    assert sorted(shown.values()) == list(range(1, len(jobs) + 1))
    assert [by_seq[seq] for seq in order] == sorted(shown, key=shown.__getitem__)


def test_one_job_of_a_new_tenant_is_next_despite_a_backlog_and_priority_orders_a_tenants_own():
    backlog = [Queued(f"a{n:02d}", "a", "normal", (n, f"a{n:02d}")) for n in range(1, 51)]
    urgent = Queued("a-high", "a", "high", (60, "a-high"))
    shown = positions([*backlog, urgent, Queued("b1", "b", "low", (61, "b1"))], {"a": 100.0})
    assert shown["b1"] == 1 and shown["a-high"] == 2 and shown["a01"] == 3 and shown["a50"] == 52


def test_the_eta_follows_the_position_the_running_jobs_and_the_typical_job_time():
    assert queued_eta_s(1, [4.0], 10.0) == 14.0  # waits out the running job, then runs
    assert queued_eta_s(3, [4.0], 10.0) == 34.0  # two typical jobs ahead on the one worker
    assert queued_eta_s(3, [4.0, 8.0], 10.0) == 24.0  # two workers: the slot that frees at 4, then at 14
    assert queued_eta_s(1, [None], 10.0) == 15.0  # a running job without an ETA yet: half a typical one
    assert queued_eta_s(1, [], 10.0) == 10.0  # nothing running: it is next to start
    assert queued_eta_s(2, [4.0], None) is None  # nothing completed yet to measure by


def test_priority_is_high_normal_or_low_and_normal_when_not_given():
    assert [check_priority(p) for p in ("high", "normal", "low", None, "")] == ["high", "normal", "low"] + [
        "normal"
    ] * 2
    with pytest.raises(Unacceptable) as refused:
        check_priority("urgent")
    assert refused.value.code == "invalid_priority"
