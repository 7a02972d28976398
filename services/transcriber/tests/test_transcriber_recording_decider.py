"""The Recording aggregate: decide(command, state) -> events, evolve/fold to apply them."""

import pytest

from tests.decider import Scenario
from voxledger.contracts import events as ev
from voxledger.contracts.commands import CancelTranscription, RequestTranscription, UploadRecording
from voxledger.transcriber.domain.recording import (
    DECIDER,
    Cancel,
    Complete,
    Fail,
    Recording,
    RecordSegments,
    Rejected,
    ReportProgress,
    StartAttempt,
    decide,
    evolve,
    fold,
)

REC = "0190f0c0-0000-7000-8000-0000000000aa"
JOB1 = "0190f0c0-0000-7000-8000-000000000001"
JOB2 = "0190f0c0-0000-7000-8000-000000000002"
OPTS = ev.TranscriptionOptions(language="en")


def upload(job_id: str | None = JOB1, blob_key: str = "recordings/a") -> UploadRecording:
    return UploadRecording(
        recording_id=REC,
        filename="talk.wav",
        content_type="audio/wav",
        size_bytes=1000,
        blob_key=blob_key,
        blob_digest="sha256:00",
        job_id=job_id,
        options=OPTS,
    )


def seg(index: int, start: float | None = None, end: float | None = None) -> ev.Segment:
    start = float(index) if start is None else start
    end = start + 1.0 if end is None else end
    return ev.Segment(index=index, start=start, end=end, text=f"s{index}", avg_logprob=-0.2, no_speech_prob=0.01)


def recording() -> Scenario[Recording]:
    """A recording nothing has happened to yet, driven like the repository drives the decider."""
    return Scenario(decide, evolve, Recording())


def uploaded(job_id: str | None = JOB1) -> Scenario[Recording]:
    agg = recording()
    agg.when(upload(job_id))
    return agg


def running(job_id: str = JOB1) -> Scenario[Recording]:
    agg = uploaded(job_id)
    agg.when(StartAttempt(job_id=job_id, worker="w1", model="tiny"))
    return agg


# --- upload and request ---------------------------------------------------


def test_upload_with_job_creates_recording_and_requests_transcription():
    agg = recording()
    produced = agg.when(upload())
    assert [type(e) for e in produced] == [ev.RecordingUploaded, ev.TranscriptionRequested]
    up, req = produced
    assert (up.filename, up.content_type, up.size_bytes, up.blob_key, up.blob_digest) == (
        "talk.wav",
        "audio/wav",
        1000,
        "recordings/a",
        "sha256:00",
    )
    assert req.job_id == JOB1 and req.options == OPTS
    assert agg.state.exists and agg.state.blob_key == "recordings/a"
    assert agg.state.jobs[JOB1].status == "queued" and agg.state.jobs[JOB1].attempt == 0


def test_upload_without_job_only_registers_the_recording():
    agg = recording()
    assert [type(e) for e in agg.when(upload(job_id=None))] == [ev.RecordingUploaded]
    assert agg.state.jobs == {}


def test_redelivered_upload_is_idempotent():
    agg = uploaded()
    assert agg.when(upload()) == []
    assert list(agg.state.jobs) == [JOB1]


def test_upload_of_a_different_blob_under_an_existing_id_is_rejected():
    agg = uploaded()
    assert agg.rejects(upload(blob_key="recordings/other")) == "recording_exists"


def test_redelivered_request_is_idempotent():
    agg = uploaded()
    assert agg.when(RequestTranscription(recording_id=REC, job_id=JOB1, options=OPTS)) == []


def test_request_on_a_missing_recording_is_rejected():
    assert recording().rejects(RequestTranscription(recording_id=REC, job_id=JOB1)) == "recording_not_found"


def test_request_on_a_deleted_recording_is_accepted_then_failed_visibly():
    agg = uploaded(job_id=None)
    agg.given(ev.RecordingDeleted())
    produced = agg.when(RequestTranscription(recording_id=REC, job_id=JOB2))
    assert [type(e) for e in produced] == [ev.TranscriptionRequested, ev.TranscriptionFailed]
    assert produced[0].job_id == produced[1].job_id == JOB2
    assert produced[1].error_code == "recording_deleted"
    assert agg.state.jobs[JOB2].status == "failed"
    # and a redelivery of that request changes nothing
    assert agg.when(RequestTranscription(recording_id=REC, job_id=JOB2)) == []


def test_retranscription_creates_a_second_job_and_leaves_the_first_alone():
    agg = running()
    agg.when(RecordSegments(job_id=JOB1, attempt=1, segments=[seg(0), seg(1)]))
    agg.when(Complete(job_id=JOB1, attempt=1, language="en", duration_s=2.0, processing_s=0.5))

    produced = agg.when(
        RequestTranscription(recording_id=REC, job_id=JOB2, options=ev.TranscriptionOptions(model="base"))
    )

    assert [type(e) for e in produced] == [ev.TranscriptionRequested]
    first, second = agg.state.jobs[JOB1], agg.state.jobs[JOB2]
    assert (first.status, first.attempt, first.next_segment_index) == ("completed", 1, 2)
    assert (second.status, second.attempt, second.next_segment_index) == ("queued", 0, 0)
    assert second.options.model == "base"
    # the second job runs independently, numbering its own segments from 0
    agg.when(StartAttempt(job_id=JOB2, worker="w2", model="base"))
    agg.when(RecordSegments(job_id=JOB2, attempt=1, segments=[seg(0)]))
    assert agg.state.jobs[JOB2].next_segment_index == 1
    assert agg.state.jobs[JOB1].next_segment_index == 2


# --- attempts -------------------------------------------------------------


def test_start_attempt_increments_the_attempt_and_runs_the_job():
    agg = uploaded()
    (started,) = agg.when(StartAttempt(job_id=JOB1, worker="w1", model="tiny"))
    assert isinstance(started, ev.TranscriptionStarted)
    assert (started.attempt, started.worker, started.model) == (1, "w1", "tiny")
    assert agg.state.jobs[JOB1].status == "running"


def test_each_retry_is_a_new_attempt_number():
    agg = running()
    agg.when(Fail(job_id=JOB1, error_code="internal_error", message="x", retry_at="2030-01-01T00:00:00+00:00"))
    (again,) = agg.when(StartAttempt(job_id=JOB1, worker="w2", model="tiny"))
    assert again.attempt == 2
    assert agg.state.jobs[JOB1].attempt == 2


def test_start_attempt_on_unknown_job_is_rejected():
    agg = uploaded()
    assert agg.rejects(StartAttempt(job_id=JOB2, worker="w", model="m")) == "job_not_found"


def test_start_attempt_on_a_missing_recording_is_rejected():
    assert recording().rejects(StartAttempt(job_id=JOB1, worker="w", model="m")) == "recording_not_found"


def test_start_attempt_on_a_deleted_recording_is_rejected():
    agg = uploaded()
    agg.given(ev.RecordingDeleted())
    assert agg.rejects(StartAttempt(job_id=JOB1, worker="w", model="m")) == "recording_deleted"


def test_cancel_requested_job_is_cancelled_instead_of_started():
    agg = uploaded()
    agg.given(ev.TranscriptionCancelRequested(job_id=JOB1))
    produced = agg.when(StartAttempt(job_id=JOB1, worker="w", model="m"))
    assert produced == [ev.TranscriptionCancelled(job_id=JOB1)]
    assert agg.state.jobs[JOB1].status == "cancelled"
    assert agg.state.jobs[JOB1].attempt == 0
    assert agg.rejects(StartAttempt(job_id=JOB1, worker="w", model="m")) == "job_finished"


# --- progress and segments --------------------------------------------------


def test_report_progress_on_running_job():
    agg = running()
    (event,) = agg.when(
        ReportProgress(job_id=JOB1, attempt=1, stage="transcribing", progress=0.25, processed_s=5.0, eta_s=15.0)
    )
    assert event == ev.TranscriptionProgressed(
        job_id=JOB1, stage="transcribing", progress=0.25, processed_s=5.0, eta_s=15.0
    )


def test_report_progress_on_a_queued_job_is_rejected():
    agg = uploaded()
    cmd = ReportProgress(job_id=JOB1, attempt=1, stage="transcribing", progress=0.1, processed_s=1.0)
    assert agg.rejects(cmd) == "job_not_running"


def test_segments_continue_the_numbering():
    agg = running()
    agg.when(RecordSegments(job_id=JOB1, attempt=1, segments=[seg(0), seg(1), seg(2, 2.0, 3.5)]))
    assert agg.state.jobs[JOB1].next_segment_index == 3
    assert agg.state.jobs[JOB1].transcribed_until_s == 3.5
    (event,) = agg.when(RecordSegments(job_id=JOB1, attempt=1, segments=[seg(3, 3.5, 4.0)]))
    assert [s.index for s in event.segments] == [3]
    assert agg.state.jobs[JOB1].next_segment_index == 4
    assert agg.state.jobs[JOB1].transcribed_until_s == 4.0


def test_segments_with_a_gap_are_rejected():
    agg = running()
    agg.when(RecordSegments(job_id=JOB1, attempt=1, segments=[seg(0), seg(1)]))
    assert agg.rejects(RecordSegments(job_id=JOB1, attempt=1, segments=[seg(3)])) == "segment_gap"


def test_first_batch_must_start_at_zero():
    agg = running()
    assert agg.rejects(RecordSegments(job_id=JOB1, attempt=1, segments=[seg(1)])) == "segment_gap"


def test_repeated_segment_batch_is_not_recorded_twice():
    agg = running()
    batch = [seg(0), seg(1)]
    agg.when(RecordSegments(job_id=JOB1, attempt=1, segments=batch))
    with pytest.raises(Rejected):
        agg.when(RecordSegments(job_id=JOB1, attempt=1, segments=batch))
    assert sum(len(e.segments) for e in agg.history if isinstance(e, ev.SegmentsTranscribed)) == 2


def test_empty_segment_batch_produces_nothing():
    agg = running()
    assert agg.when(RecordSegments(job_id=JOB1, attempt=1, segments=[])) == []


def test_segments_on_a_queued_job_are_rejected():
    agg = uploaded()
    assert agg.rejects(RecordSegments(job_id=JOB1, attempt=1, segments=[seg(0)])) == "job_not_running"


def test_resumed_attempt_continues_where_the_last_one_stopped():
    agg = running()
    agg.when(RecordSegments(job_id=JOB1, attempt=1, segments=[seg(0), seg(1)]))
    agg.when(Fail(job_id=JOB1, error_code="internal_error", message="x", retry_at="2030-01-01T00:00:00+00:00"))
    agg.when(StartAttempt(job_id=JOB1, worker="w2", model="tiny"))
    assert agg.state.jobs[JOB1].next_segment_index == 2 and agg.state.jobs[JOB1].transcribed_until_s == 2.0
    assert agg.rejects(RecordSegments(job_id=JOB1, attempt=2, segments=[seg(0)])) == "segment_gap"
    agg.when(RecordSegments(job_id=JOB1, attempt=2, segments=[seg(2)]))
    (done,) = agg.when(Complete(job_id=JOB1, attempt=2, language="en", duration_s=3.0, processing_s=1.0))
    assert done.segment_count == 3


# --- fencing: a superseded worker (paused past its lease) can no longer write ---


def superseded() -> Scenario[Recording]:
    """Attempt 1's worker stalled; the broker redelivered and attempt 2 started elsewhere."""
    agg = running()
    agg.when(RecordSegments(job_id=JOB1, attempt=1, segments=[seg(0)]))
    agg.when(StartAttempt(job_id=JOB1, worker="w2", model="tiny"))
    return agg


def test_a_superseded_attempt_cannot_append_segments_even_with_the_right_index():
    agg = superseded()
    assert agg.rejects(RecordSegments(job_id=JOB1, attempt=1, segments=[seg(1)])) == "attempt_superseded"
    assert agg.when(RecordSegments(job_id=JOB1, attempt=2, segments=[seg(1)]))


def test_a_superseded_attempt_cannot_complete_fail_cancel_or_report_progress():
    agg = superseded()
    agg.when(CancelTranscription(recording_id=REC, job_id=JOB1))
    stale = [
        Complete(job_id=JOB1, attempt=1, language="en", duration_s=1.0, processing_s=0.1),
        Fail(job_id=JOB1, attempt=1, error_code="internal_error", message="x", retry_at="2030-01-01T00:00:00+00:00"),
        Cancel(job_id=JOB1, attempt=1),
        ReportProgress(job_id=JOB1, attempt=1, stage="transcribing", progress=0.5, processed_s=1.0),
    ]
    for command in stale:
        assert agg.rejects(command) == "attempt_superseded", command
    assert agg.when(Cancel(job_id=JOB1, attempt=2))


def test_the_broker_giving_up_fails_the_job_whichever_attempt_holds_it():
    agg = superseded()
    (failed,) = agg.when(Fail(job_id=JOB1, error_code="worker_lost", message="no worker finished it"))
    assert failed.error_code == "worker_lost" and agg.state.jobs[JOB1].status == "failed"


# --- completion and failure -----------------------------------------------


def test_complete_counts_segments():
    agg = running()
    agg.when(RecordSegments(job_id=JOB1, attempt=1, segments=[seg(0), seg(1)]))
    agg.when(RecordSegments(job_id=JOB1, attempt=1, segments=[seg(2), seg(3), seg(4)]))
    (done,) = agg.when(Complete(job_id=JOB1, attempt=1, language="fr", duration_s=5.0, processing_s=1.25))
    assert isinstance(done, ev.TranscriptionCompleted)
    assert (done.segment_count, done.language, done.duration_s, done.processing_s) == (5, "fr", 5.0, 1.25)
    assert agg.state.jobs[JOB1].status == "completed"


def test_complete_with_no_segments_counts_zero():
    agg = running()
    (done,) = agg.when(Complete(job_id=JOB1, attempt=1, language="en", duration_s=1.0, processing_s=0.1))
    assert done.segment_count == 0


def test_complete_on_a_queued_job_is_rejected():
    agg = uploaded()
    cmd = Complete(job_id=JOB1, attempt=1, language="en", duration_s=1.0, processing_s=0.1)
    assert agg.rejects(cmd) == "job_not_running"


def test_fail_with_retry_at_is_an_attempt_failure_and_requeues():
    agg = running()
    (failed,) = agg.when(
        Fail(job_id=JOB1, error_code="internal_error", message="oom", retry_at="2030-01-01T00:00:05+00:00")
    )
    assert isinstance(failed, ev.TranscriptionAttemptFailed)
    assert (failed.attempt, failed.error_code, failed.message, failed.retry_at) == (
        1,
        "internal_error",
        "oom",
        "2030-01-01T00:00:05+00:00",
    )
    assert agg.state.jobs[JOB1].status == "queued"


def test_fail_without_retry_is_final():
    agg = running()
    (failed,) = agg.when(Fail(job_id=JOB1, error_code="audio_invalid", message="cannot decode"))
    assert failed == ev.TranscriptionFailed(job_id=JOB1, error_code="audio_invalid", message="cannot decode")
    assert agg.state.jobs[JOB1].status == "failed"


@pytest.mark.parametrize(
    "finish",
    [
        Complete(job_id=JOB1, attempt=1, language="en", duration_s=1.0, processing_s=0.1),
        Fail(job_id=JOB1, error_code="audio_invalid", message="bad"),
    ],
    ids=["completed", "failed"],
)
@pytest.mark.parametrize(
    "later",
    [
        StartAttempt(job_id=JOB1, worker="w", model="m"),
        ReportProgress(job_id=JOB1, attempt=1, stage="transcribing", progress=0.5, processed_s=1.0),
        RecordSegments(job_id=JOB1, attempt=1, segments=[seg(0)]),
        Complete(job_id=JOB1, attempt=1, language="en", duration_s=1.0, processing_s=0.1),
        Fail(job_id=JOB1, error_code="x", message="y"),
        Fail(job_id=JOB1, error_code="x", message="y", retry_at="2030-01-01T00:00:00+00:00"),
    ],
    ids=lambda c: type(c).__name__,
)
def test_deciding_on_a_finished_job_is_rejected(finish, later):
    agg = running()
    agg.when(finish)
    assert agg.rejects(later) == "job_finished"


def test_cancelled_job_is_finished():
    agg = uploaded()
    agg.given(ev.TranscriptionCancelled(job_id=JOB1))
    assert agg.rejects(Fail(job_id=JOB1, error_code="x", message="y")) == "job_finished"


# --- fold -----------------------------------------------------------------


def test_fold_rebuilds_the_same_state_from_history():
    agg = running()
    agg.when(RecordSegments(job_id=JOB1, attempt=1, segments=[seg(0), seg(1, 1.0, 2.75)]))
    agg.when(Complete(job_id=JOB1, attempt=1, language="en", duration_s=3.0, processing_s=0.2))
    agg.when(RequestTranscription(recording_id=REC, job_id=JOB2))

    rebuilt = fold(agg.history)

    assert rebuilt == agg.state
    assert rebuilt.jobs[JOB1].status == "completed"
    assert rebuilt.jobs[JOB1].transcribed_until_s == 2.75
    assert rebuilt.jobs[JOB2].status == "queued"


def test_fold_of_nothing_is_a_missing_recording():
    state = fold([])
    assert not state.exists and not state.deleted and state.jobs == {}


def test_fold_ignores_events_without_state_effect():
    history = [
        ev.RecordingUploaded(filename="f", content_type="audio/wav", size_bytes=1, blob_key="k", blob_digest="d"),
        ev.TranscriptionRequested(job_id=JOB1, options=OPTS),
        ev.TranscriptionStarted(job_id=JOB1, attempt=1, worker="w", model="m"),
        ev.TranscriptionProgressed(job_id=JOB1, stage="transcribing", progress=0.3, processed_s=1.0),
        ev.SegmentsTranscribed(job_id=JOB1, segments=[]),
    ]
    state = fold(history)
    assert state.jobs[JOB1].status == "running"
    assert state.jobs[JOB1].next_segment_index == 0


def test_gap_inside_a_batch_is_rejected():
    agg = running()
    with pytest.raises(Rejected) as info:
        agg.when(RecordSegments(job_id=JOB1, attempt=1, segments=[seg(0), seg(2)]))
    assert info.value.code == "segment_gap"


def test_evolving_leaves_the_state_a_job_holds_as_it_was():
    uploaded = DECIDER.fold(decide(upload(), DECIDER.initial))
    held = uploaded.jobs[JOB1]  # what a running worker read
    started = DECIDER.fold(
        [*decide(upload(), DECIDER.initial), ev.TranscriptionStarted(job_id=JOB1, attempt=1, worker="w", model="m")]
    )
    after = evolve(
        uploaded,
        ev.TranscriptionCompleted(job_id=JOB1, language="en", duration_s=1.0, segment_count=0, processing_s=0.1),
    )
    assert (held.status, uploaded.jobs[JOB1].status, started.jobs[JOB1].status) == ("queued", "queued", "running")
    assert after.jobs[JOB1].status == "completed"
    assert DECIDER.initial == Recording()  # folding never changes the decider's own initial state
    with pytest.raises(AttributeError):
        uploaded.deleted = True  # type: ignore[misc]
