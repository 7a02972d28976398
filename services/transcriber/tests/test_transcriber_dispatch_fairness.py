"""The dispatcher's fair choice, pure: tenants in turn (longest since dispatched first), priority then age
within a tenant; and the priority each kind of work carries."""

import pytest

from voxledger.transcriber.dispatch.fairness import FairQueue, Work, dispatch_order, work_priority


def test_one_new_job_of_another_tenant_goes_before_a_backlog():
    backlog = [Work(seq=s, tenant="a") for s in range(1, 51)]
    order = dispatch_order([*backlog, Work(seq=51, tenant="b")], last={"a": 100.0})
    assert order[0] == 51 and order[1:] == list(range(1, 51))


def test_tenants_take_turns_longest_since_dispatched_first_and_ties_by_tenant_id():
    work = [Work(1, "b"), Work(2, "b"), Work(3, "c"), Work(4, "a"), Work(5, "c"), Work(6, "d")]
    # d was never dispatched to (first), a and b tie (then by id), c was dispatched to before them
    assert dispatch_order(work, last={"a": 5.0, "b": 5.0, "c": 1.0}) == [6, 3, 4, 1, 5, 2]


def test_within_a_tenant_high_before_normal_before_low_then_oldest():
    work = [Work(1, "a", "low"), Work(2, "a"), Work(3, "a", "high"), Work(4, "a"), Work(5, "a", "high")]
    assert dispatch_order(work) == [3, 5, 2, 4, 1]


def test_a_redelivery_is_not_queued_twice_and_a_dispatch_counts_as_the_tenants_turn():
    queue = FairQueue()
    assert queue.add(Work(1, "a")) and not queue.add(Work(1, "a")) and len(queue) == 1
    queue.add(Work(2, "a"))
    queue.add(Work(3, "b"))
    first = queue.pop(now=10.0)
    assert first is not None and first.seq == 1 and queue.last == {"a": 10.0}
    queue.add(Work(4, "c"))  # arrives later, but c was never dispatched to
    assert [w.seq for w in iter(lambda: queue.pop(now=11.0), None)] == [3, 4, 2]
    assert not queue and 1 not in queue


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        ("TranscriptionRequested", {"job_id": "j", "options": {"priority": "high"}}, "high"),
        ("TranscriptionRequested", {"job_id": "j", "options": {}}, "normal"),  # omitted when normal
        ("TranscriptionRequested", {"job_id": "j"}, "normal"),
        ("TranscriptionChunkQueued", {"priority": "low"}, "low"),  # a work type with a top-level priority
        ("TranscriptionRequested", {"options": {"priority": "urgent"}}, "normal"),  # unknown: normal
    ],
)
def test_the_priority_each_kind_of_work_carries(kind, body, expected):
    assert work_priority(kind, body) == expected
