"""Chunked jobs in the Recording decider, and the pure stitching they rely on (domain/stitching.py)."""

import itertools
from datetime import UTC, datetime, timedelta

from tests.decider import Scenario, names
from voxledger.contracts import events as ev
from voxledger.contracts.commands import CancelTranscription, UploadRecording
from voxledger.transcriber.domain import stitching
from voxledger.transcriber.domain.recording import (
    Cancel,
    Fail,
    PlanChunks,
    RecordChunk,
    Recording,
    StartAttempt,
    chunk_todo,
    decide,
    evolve,
    fold,
)

REC = "0190f0c0-0000-7000-8000-0000000000ab"
JOB = "0190f0c0-0000-7000-8000-000000000011"
SPANS = stitching.plan_spans(30.0, [10.0, 20.0])


def words_segment(*spoken: tuple[float, float, str]) -> ev.Segment:
    """A segment of words (start, end, text) as a chunk's model reports it; its index is the chunk's own."""
    words = [ev.Word(start, end, f" {text}", 0.9) for start, end, text in spoken]
    text = "".join(w.word for w in words).strip()
    return ev.Segment(
        index=0, start=words[0].start, end=words[-1].end, text=text, avg_logprob=-0.2, no_speech_prob=0.01, words=words
    )


def chunk(
    index: int, *segments: ev.Segment, processing_s: float = 2.0, recorded_at: datetime | None = None
) -> RecordChunk:
    return RecordChunk(
        job_id=JOB,
        index=index,
        segments=list(segments),
        processing_s=processing_s,
        language="en",
        recorded_at=recorded_at,
    )


def chunked(word_timestamps: bool = False, planned_at: datetime | None = None) -> Scenario[Recording]:
    agg = Scenario(decide, evolve, Recording())
    agg.when(
        UploadRecording(
            recording_id=REC,
            filename="long.wav",
            content_type="audio/wav",
            size_bytes=1000,
            blob_key="recordings/long",
            blob_digest="sha256:00",
            job_id=JOB,
            options=ev.TranscriptionOptions(language="en", word_timestamps=word_timestamps),
        ),
        StartAttempt(job_id=JOB, worker="w1", model="tiny.en"),
        PlanChunks(job_id=JOB, attempt=1, duration_s=30.0, spans=SPANS, planned_at=planned_at),
    )
    return agg


# Each chunk hears 1 s of its neighbours: the seam words appear in both, and each is kept once.
CHUNK0 = words_segment((0.5, 1.0, "one"), (9.0, 9.6, "two"), (9.8, 10.4, "three"), (10.5, 10.9, "four"))
CHUNK1 = words_segment((9.8, 10.4, "three"), (10.5, 10.9, "four"), (15.0, 15.5, "five"), (19.6, 20.6, "six"))
CHUNK2 = words_segment((19.6, 20.6, "six"), (25.0, 25.5, "seven"), (29.0, 30.4, "eight"))


def transcript(events: list) -> list[str]:
    return [w for e in events if isinstance(e, ev.SegmentsTranscribed) for s in e.segments for w in s.text.split()]


def test_plan_queues_one_unit_of_work_per_chunk_and_a_redelivered_job_is_not_started_again():
    agg = chunked()
    queued = [e for e in agg.history if isinstance(e, ev.TranscriptionChunkQueued)]
    assert [(q.index, q.start_s, q.end_s, q.priority) for q in queued] == [
        (0, 0.0, 10.0, "normal"),
        (1, 10.0, 20.0, "normal"),
        (2, 20.0, 30.0, "normal"),
    ]
    assert agg.when(StartAttempt(job_id=JOB, worker="w2", model="tiny.en")) == []
    assert agg.when(PlanChunks(job_id=JOB, attempt=1, duration_s=30.0, spans=SPANS)) == []


def test_chunks_stitch_in_order_whatever_order_they_arrive_in_each_word_once():
    agg = chunked()
    out_of_order = agg.when(chunk(2, CHUNK2))
    assert names(out_of_order) == ["ChunkTranscribed", "TranscriptionProgressed"]  # waits for 0 and 1
    produced = agg.when(chunk(0, CHUNK0)) + agg.when(chunk(1, CHUNK1))
    assert transcript(produced) == ["one", "two", "three", "four", "five", "six", "seven", "eight"]
    indices = [s.index for e in produced if isinstance(e, ev.SegmentsTranscribed) for s in e.segments]
    assert indices == list(range(len(indices)))
    completed = [e for e in produced if isinstance(e, ev.TranscriptionCompleted)]
    assert len(completed) == 1 and completed[0].segment_count == len(indices)
    assert completed[0].duration_s == 30.0 and completed[0].processing_s == 6.0
    progress = [e.processed_s for e in out_of_order + produced if isinstance(e, ev.TranscriptionProgressed)]
    assert progress == sorted(progress) and progress[-1] == 20.0
    assert all(s.words is None for e in produced if isinstance(e, ev.SegmentsTranscribed) for s in e.segments)
    assert fold(agg.history).jobs[JOB].status == "completed"


def test_words_stay_when_the_job_asked_for_them_and_a_duplicate_chunk_is_refused():
    agg = chunked(word_timestamps=True)
    produced = agg.when(chunk(0, CHUNK0))
    kept = [
        w.word.strip() for e in produced if isinstance(e, ev.SegmentsTranscribed) for s in e.segments for w in s.words
    ]
    assert kept == ["one", "two"]  # "three" and "four" are after the cut at 10 s by their midpoints
    assert agg.rejects(chunk(0, CHUNK0)) == "chunk_recorded"
    assert chunk_todo(agg.state, JOB, 0) == "chunk_recorded" and chunk_todo(agg.state, JOB, 1) == "run"


def test_cancel_reaches_every_chunk_and_no_chunk_is_recorded_after_it():
    agg = chunked()
    agg.when(chunk(0, CHUNK0))
    assert names(agg.when(CancelTranscription(recording_id=REC, job_id=JOB))) == ["TranscriptionCancelRequested"]
    assert chunk_todo(agg.state, JOB, 1) == "cancel_requested"
    assert agg.rejects(chunk(1, CHUNK1)) == "cancel_requested"
    assert names(agg.when(Cancel(job_id=JOB, attempt=1))) == ["TranscriptionCancelled"]
    assert chunk_todo(agg.state, JOB, 2) == "job_finished"


def test_a_chunk_that_fails_for_good_fails_the_job_once():
    agg = chunked()
    failed = agg.when(Fail(job_id=JOB, error_code="audio_corrupt", message="damaged"))
    assert names(failed) == ["TranscriptionFailed"]
    assert agg.rejects(Fail(job_id=JOB, error_code="worker_lost", message="lost")) == "job_finished"
    assert agg.rejects(chunk(1, CHUNK1)) == "job_finished"


def test_cuts_split_the_recording_into_equal_chunks_and_go_in_the_quietest_frame():
    assert stitching.nominal_cuts(130.0, 60.0) == [65.0]  # a 10 s tail is neither a chunk nor a long last one
    assert stitching.nominal_cuts(150.0, 60.0) == [50.0, 100.0]  # 2.5 parts: rounded up
    edges = [0.0, *stitching.nominal_cuts(617.1, 60.0), 617.1]  # ten chunks, the last no longer than the rest
    lengths = [b - a for a, b in itertools.pairwise(edges)]
    assert len(lengths) == 10 and max(lengths) - min(lengths) < 0.01
    assert stitching.nominal_cuts(40.0, 60.0) == []
    assert stitching.quietest([5.0, 3.0, 0.1, 4.0], first_s=57.0, frame_s=0.05) == 57.125
    spans = stitching.plan_spans(150.0, [119.5, 60.2])
    assert [(s.start_s, s.end_s) for s in spans] == [(0.0, 60.2), (60.2, 119.5), (119.5, 150.0)]


def test_eta_follows_the_measured_speed_of_the_chunks():
    assert stitching.eta_s(100.0, 0.0, 0.0) is None
    assert stitching.eta_s(100.0, 20.0, 5.0) == 20.0


def test_a_chunked_eta_runs_at_the_rate_chunks_complete_however_many_workers_share_them():
    """Two workers record chunks 0 and 1 at 4 s and 4.2 s after the plan, 3 s of compute each: the 10 s
    left go at 20 s of audio per 4.2 s (2.1 s), not at one worker's 3 s per 10 s (3 s)."""
    planned_at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    agg = chunked(planned_at=planned_at)
    at = [planned_at + timedelta(seconds=s) for s in (4.0, 4.2)]
    first = agg.when(chunk(0, CHUNK0, processing_s=3.0, recorded_at=at[0]))
    second = agg.when(chunk(1, CHUNK1, processing_s=3.0, recorded_at=at[1]))
    etas = [e.eta_s for e in first + second if isinstance(e, ev.TranscriptionProgressed)]
    assert etas == [8.0, 2.1]  # after chunk 0: 20 s left at 10 s per 4 s


def test_a_plan_without_its_time_estimates_from_the_chunks_own_time():
    agg = chunked()  # a plan appended before plans carried their time
    (progress,) = [e for e in agg.when(chunk(0, CHUNK0, processing_s=3.0)) if isinstance(e, ev.TranscriptionProgressed)]
    assert progress.eta_s == 6.0
