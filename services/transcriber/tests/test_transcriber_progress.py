"""Progress/ETA reporting and segment batching, driven by an explicit clock."""

import pytest

from voxledger.contracts.events import Segment
from voxledger.transcriber.domain.progress import ProgressTracker, SegmentBatcher


def seg(i: int) -> Segment:
    return Segment(index=i, start=float(i), end=i + 1.0, text=f"s{i}", avg_logprob=-0.1, no_speech_prob=0.0)


# --- ProgressTracker ------------------------------------------------------


def test_first_report_is_emitted_immediately():
    t = ProgressTracker(duration_s=100.0, started_at=0.0)
    snap = t.due(0.0, now=0.0)
    assert snap is not None
    assert snap.progress == 0.0 and snap.processed_s == 0.0


def test_reports_are_rate_limited_to_about_one_per_interval():
    t = ProgressTracker(duration_s=1000.0, started_at=0.0, interval_s=1.0)
    emitted = []
    # Poll every 0.1 s for 10 s while audio advances steadily.
    for step in range(101):
        now = step * 0.1
        snap = t.due(processed_s=now * 5, now=now)
        if snap is not None:
            emitted.append(now)
    assert 10 <= len(emitted) <= 11
    gaps = [b - a for a, b in zip(emitted, emitted[1:], strict=False)]
    assert all(g >= 1.0 - 1e-9 for g in gaps)


def test_custom_interval():
    t = ProgressTracker(duration_s=100.0, started_at=0.0, interval_s=5.0)
    assert t.due(1.0, now=1.0) is not None
    assert t.due(2.0, now=4.0) is None
    assert t.due(3.0, now=6.0) is not None


def test_progress_never_goes_backwards():
    t = ProgressTracker(duration_s=100.0, started_at=0.0, interval_s=1.0)
    assert t.due(50.0, now=1.0).progress == 0.5
    assert t.due(40.0, now=2.0) is None  # earlier position: not reported
    assert t.due(50.0, now=3.0) is None  # no advance: not reported either
    assert t.due(60.0, now=4.0).progress == 0.6


def test_a_suppressed_report_does_not_delay_the_next_one():
    t = ProgressTracker(duration_s=100.0, started_at=0.0, interval_s=1.0)
    t.due(10.0, now=1.0)
    assert t.due(10.0, now=2.0) is None  # no advance
    assert t.due(11.0, now=2.1) is not None  # interval counted from the last emitted report


@pytest.mark.parametrize("processed", [-5.0, 0.0, 10.0, 100.0, 150.0, 1e9])
def test_progress_stays_within_zero_and_one(processed):
    t = ProgressTracker(duration_s=100.0, started_at=0.0)
    snap = t.snapshot(processed, now=10.0)
    assert 0.0 <= snap.progress <= 1.0
    assert 0.0 <= snap.processed_s <= 100.0


def test_zero_duration_does_not_divide_by_zero():
    t = ProgressTracker(duration_s=0.0, started_at=0.0)
    snap = t.snapshot(0.0, now=1.0)
    assert 0.0 <= snap.progress <= 1.0


def test_eta_is_unknown_before_anything_is_processed():
    t = ProgressTracker(duration_s=100.0, started_at=10.0)
    assert t.snapshot(0.0, now=10.0).eta_s is None
    assert t.snapshot(0.0, now=25.0).eta_s is None  # time passed, still nothing done
    assert t.snapshot(5.0, now=10.0).eta_s is None  # no elapsed time to measure speed


def test_eta_follows_measured_speed_and_shrinks_at_constant_speed():
    # 4 s of audio per wall second over 100 s of audio: finished at t=25.
    t = ProgressTracker(duration_s=100.0, started_at=0.0)
    etas = []
    for now in (1.0, 5.0, 10.0, 20.0, 24.0):
        snap = t.snapshot(processed_s=4.0 * now, now=now)
        assert snap.eta_s == pytest.approx(25.0 - now, abs=0.01)
        etas.append(snap.eta_s)
    assert etas == sorted(etas, reverse=True)
    assert t.snapshot(100.0, now=25.0).eta_s in (None, 0.0)


def test_eta_reflects_slower_speed():
    fast = ProgressTracker(duration_s=100.0, started_at=0.0).snapshot(50.0, now=10.0)
    slow = ProgressTracker(duration_s=100.0, started_at=0.0).snapshot(10.0, now=10.0)
    assert fast.eta_s == pytest.approx(10.0)
    assert slow.eta_s == pytest.approx(90.0)


def test_resume_offset_counts_as_done_but_not_as_speed():
    # Resumed at 60 s of 100 s; this attempt does 2 audio-s per wall-s.
    t = ProgressTracker(duration_s=100.0, started_at=0.0, resume_from_s=60.0)
    start = t.snapshot(60.0, now=0.0)
    assert start.progress == 0.6 and start.eta_s is None
    snap = t.snapshot(70.0, now=5.0)
    assert snap.progress == 0.7
    assert snap.eta_s == pytest.approx(15.0)  # 30 s left at 2x: not inflated by the 60 s done earlier


def test_positions_before_the_resume_point_are_clamped_to_it():
    t = ProgressTracker(duration_s=100.0, started_at=0.0, resume_from_s=40.0)
    snap = t.snapshot(10.0, now=5.0)
    assert snap.processed_s == 40.0 and snap.progress == 0.4


def test_reaches_exactly_one_at_the_end():
    t = ProgressTracker(duration_s=37.3, started_at=0.0)
    assert t.due(37.3, now=2.0).progress == 1.0


# --- SegmentBatcher -------------------------------------------------------


def test_batcher_flushes_by_count():
    b = SegmentBatcher(max_segments=3, max_age_s=100.0)
    assert b.add(seg(0), now=0.0) == []
    assert b.add(seg(1), now=0.1) == []
    assert [s.index for s in b.add(seg(2), now=0.2)] == [0, 1, 2]
    assert b.add(seg(3), now=0.3) == []


def test_batcher_flushes_by_age_on_add():
    b = SegmentBatcher(max_segments=100, max_age_s=1.0)
    assert b.add(seg(0), now=10.0) == []
    assert b.add(seg(1), now=10.5) == []
    assert [s.index for s in b.add(seg(2), now=11.0)] == [0, 1, 2]


def test_batcher_age_is_measured_from_the_oldest_pending_segment():
    b = SegmentBatcher(max_segments=100, max_age_s=1.0)
    b.add(seg(0), now=0.0)
    b.add(seg(1), now=0.9)
    assert b.due(now=0.99) == []
    assert [s.index for s in b.due(now=1.0)] == [0, 1]
    # a fresh batch starts its own clock
    assert b.add(seg(2), now=5.0) == []
    assert b.due(now=5.5) == []
    assert [s.index for s in b.due(now=6.0)] == [2]


def test_batcher_due_with_nothing_pending_is_empty():
    b = SegmentBatcher(max_segments=2, max_age_s=0.0)
    assert b.due(now=1e9) == []


def test_flush_returns_leftovers_in_order_then_nothing():
    b = SegmentBatcher(max_segments=10, max_age_s=60.0)
    for i in range(4):
        b.add(seg(i), now=float(i))
    assert [s.index for s in b.flush()] == [0, 1, 2, 3]
    assert b.flush() == []


def test_batcher_loses_and_duplicates_nothing():
    b = SegmentBatcher(max_segments=4, max_age_s=0.35)
    out = []
    for i in range(50):
        now = i * 0.1
        out += b.add(seg(i), now=now)
        out += b.due(now=now + 0.05)
    out += b.flush()
    assert [s.index for s in out] == list(range(50))
