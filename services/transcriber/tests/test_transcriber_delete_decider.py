"""Deleting a recording: open jobs end cancelled, then RecordingDeleted; nothing runs on afterwards."""

from tests.decider import Scenario
from voxledger.contracts import events as ev
from voxledger.contracts.commands import DeleteRecording, RequestTranscription, UploadRecording
from voxledger.transcriber.domain.recording import Recording, ReportProgress, StartAttempt, decide, evolve

REC = "0190f0c0-0000-7000-8000-0000000000aa"
RUNNING, QUEUED, DONE = (f"0190f0c0-0000-7000-8000-00000000000{i}" for i in (1, 2, 3))
DELETE = DeleteRecording(recording_id=REC)


def recording_with_three_jobs() -> Scenario[Recording]:
    recording = Scenario(decide, evolve, Recording())
    upload = UploadRecording(
        recording_id=REC, filename="a.wav", content_type="audio/wav", size_bytes=1, blob_key="k", blob_digest="d"
    )
    recording.when(upload, *(RequestTranscription(recording_id=REC, job_id=job) for job in (DONE, RUNNING, QUEUED)))
    return recording.given(
        ev.TranscriptionStarted(job_id=DONE, attempt=1, worker="w", model="m"),
        ev.TranscriptionCompleted(job_id=DONE, language="en", duration_s=1, segment_count=0, processing_s=1),
        ev.TranscriptionStarted(job_id=RUNNING, attempt=1, worker="w", model="m"),
    )


def test_delete_cancels_open_jobs_then_deletes():
    recording = recording_with_three_jobs()
    assert recording.when(DELETE) == [
        ev.TranscriptionCancelRequested(job_id=RUNNING),  # the running worker's cancel watch fires
        ev.TranscriptionCancelled(job_id=RUNNING),
        ev.TranscriptionCancelRequested(job_id=QUEUED),
        ev.TranscriptionCancelled(job_id=QUEUED),
        ev.RecordingDeleted(),
    ]
    state = recording.state
    assert state.deleted and {j.status for j in state.jobs.values()} == {"completed", "cancelled"}


def test_a_repeated_delete_adds_nothing_and_an_unknown_recording_is_rejected():
    recording = recording_with_three_jobs()
    recording.when(DELETE)
    assert recording.when(DELETE) == []
    assert Scenario(decide, evolve, Recording()).rejects(DELETE) == "recording_not_found"


def test_a_worker_of_a_deleted_recording_can_neither_report_nor_start():
    recording = recording_with_three_jobs()
    recording.when(DELETE)
    for intent in (
        ReportProgress(job_id=RUNNING, attempt=1, stage="transcribing", progress=0.5, processed_s=1),
        StartAttempt(job_id=QUEUED, worker="w", model="m"),
    ):
        recording.rejects(intent)
