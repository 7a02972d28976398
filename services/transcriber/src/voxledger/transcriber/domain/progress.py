"""Progress and ETA for a running job, and batching of segments: pure, clock passed in."""

import msgspec

from voxledger.contracts.events import Segment


class ProgressSnapshot(msgspec.Struct, frozen=True):
    progress: float
    processed_s: float
    eta_s: float | None


class ProgressTracker:
    """Turns "audio transcribed up to t" into rate-limited progress with an ETA.

    The ETA comes from the speed measured on this job so far (audio seconds per
    wall second), so it sharpens as the job runs.
    """

    def __init__(self, duration_s: float, started_at: float, resume_from_s: float = 0.0, interval_s: float = 1.0):
        self.duration_s = max(duration_s, 1e-6)
        self.started_at = started_at
        self.resume_from_s = resume_from_s
        self.interval_s = interval_s
        self._last_emit: float | None = None
        self._last_progress = -1.0

    def snapshot(self, processed_s: float, now: float) -> ProgressSnapshot:
        processed_s = min(max(processed_s, self.resume_from_s), self.duration_s)
        elapsed = now - self.started_at
        done_here = processed_s - self.resume_from_s
        speed = done_here / elapsed if elapsed > 0 and done_here > 0 else None
        eta = (self.duration_s - processed_s) / speed if speed else None
        return ProgressSnapshot(
            progress=round(processed_s / self.duration_s, 4),
            processed_s=round(processed_s, 3),
            eta_s=None if eta is None else round(eta, 2),
        )

    def due(self, processed_s: float, now: float) -> ProgressSnapshot | None:
        """A snapshot if one is due (about once per interval, never going backwards), else None."""
        if self._last_emit is not None and now - self._last_emit < self.interval_s:
            return None
        snap = self.snapshot(processed_s, now)
        if snap.progress <= self._last_progress:
            return None
        self._last_emit, self._last_progress = now, snap.progress
        return snap


class SegmentBatcher:
    """Collects segments and releases them in small batches: by count, or by age so the transcript keeps growing."""

    def __init__(self, max_segments: int = 8, max_age_s: float = 1.0):
        self.max_segments = max_segments
        self.max_age_s = max_age_s
        self._pending: list[Segment] = []
        self._first_at = 0.0

    def add(self, segment: Segment, now: float) -> list[Segment]:
        if not self._pending:
            self._first_at = now
        self._pending.append(segment)
        if len(self._pending) >= self.max_segments or now - self._first_at >= self.max_age_s:
            return self.flush()
        return []

    def due(self, now: float) -> list[Segment]:
        if self._pending and now - self._first_at >= self.max_age_s:
            return self.flush()
        return []

    def flush(self) -> list[Segment]:
        batch, self._pending = self._pending, []
        return batch
