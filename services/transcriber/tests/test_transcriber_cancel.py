"""Cancel in the Recording decider: queued jobs end at once, running ones once the worker stops."""

from tests.decider import Scenario, names
from voxledger.contracts import events as ev
from voxledger.contracts.commands import CancelTranscription, UploadRecording
from voxledger.transcriber.domain.recording import Cancel, ReportProgress, StartAttempt, decide, evolve, fold

REC, JOB = "rec-1", "job-1"
CANCEL = CancelTranscription(recording_id=REC, job_id=JOB)


def queued() -> Scenario:
    upload = UploadRecording(
        recording_id=REC,
        filename="a.ogg",
        content_type="audio/ogg",
        size_bytes=1,
        blob_key="k",
        blob_digest="d",
        job_id=JOB,
    )
    recording = Scenario(decide, evolve, fold([]))
    recording.when(upload)
    return recording


def running() -> Scenario:
    recording = queued()
    recording.when(StartAttempt(job_id=JOB, worker="w", model="m"))
    return recording


def test_a_queued_job_is_cancelled_at_once_and_never_starts():
    recording = queued()
    assert names(recording.when(CANCEL)) == ["TranscriptionCancelRequested", "TranscriptionCancelled"]
    assert recording.rejects(StartAttempt(job_id=JOB, worker="w", model="m")) == "job_finished"
    assert recording.when(CANCEL) == [], "a repeat is harmless"


def test_a_running_job_is_asked_to_stop_and_the_worker_ends_it():
    recording = running()
    assert names(recording.when(CANCEL)) == ["TranscriptionCancelRequested"]
    progress = ReportProgress(job_id=JOB, attempt=1, stage="transcribing", progress=0.5, processed_s=1.0)
    assert recording.rejects(progress) == "cancel_requested", "a worker that appends learns it must stop"
    assert names(recording.when(Cancel(job_id=JOB, attempt=1))) == ["TranscriptionCancelled"]
    assert recording.state.jobs[JOB].status == "cancelled"


def test_the_worker_cannot_cancel_what_nobody_asked_to_cancel():
    assert running().rejects(Cancel(job_id=JOB, attempt=1)) == "cancel_not_requested"


def test_a_finished_job_ignores_cancel():
    recording = running()
    recording.given(ev.TranscriptionCompleted(job_id=JOB, language="en", duration_s=1, segment_count=0, processing_s=1))
    assert recording.when(CANCEL) == []
