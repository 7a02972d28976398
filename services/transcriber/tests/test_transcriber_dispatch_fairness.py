"""The dispatcher's fair choice, pure: tenants in turn (longest since dispatched first), priority then age
within a tenant; the priority each kind of work carries; what it reads from and forwards of a held message."""

import pytest
from nats.aio.msg import Msg

from voxledger.contracts import envelope
from voxledger.contracts import events as ev
from voxledger.transcriber.dispatch.dispatcher import work_headers, work_of
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


def _held(data: bytes, headers: dict[str, str] | None = None) -> Msg:
    ack = "$JS.ACK.EVENTS.transcription-jobs.1.7.3.1700000000000000000.0"  # stream sequence 7
    return Msg(_client=None, subject="vl.evt.rec.r1.TranscriptionRequested", reply=ack, data=data, headers=headers)  # type: ignore[arg-type]


def test_held_work_is_read_from_its_envelope_and_forwarded_without_the_append_preconditions():
    request = ev.TranscriptionRequested(job_id="j1", options=ev.TranscriptionOptions(priority="high"))
    data = envelope.encode(envelope.seal(request, aggregate_id="r1", tenant_id="acme"))
    assert work_of(_held(data)) == Work(seq=7, tenant="acme", priority="high")
    assert work_of(_held(b"not json")) == Work(seq=7, tenant="")  # forwarded all the same: the worker rejects it
    headers = {"Nats-Msg-Id": "event-id", "Nats-Expected-Last-Subject-Sequence": "3", "traceparent": "00-ab"}
    assert work_headers(_held(data, headers)) == {"Nats-Msg-Id": "dispatch-7", "traceparent": "00-ab"}


def test_cancelled_work_is_taken_off_the_queue():
    queue = FairQueue()
    for work in (Work(1, "a"), Work(2, "a", "high"), Work(3, "b")):
        queue.add(work)
    assert queue.discard(2) and not queue.discard(2) and queue.discard(3)
    assert [w.seq for w in iter(lambda: queue.pop(now=1.0), None)] == [1]
