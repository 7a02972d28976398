"""Cancel in the Recording decider: queued jobs end at once, running ones once the worker stops."""

import pytest

from voxledger.contracts import events as ev
from voxledger.contracts.commands import CancelTranscription, UploadRecording
from voxledger.transcriber.domain.recording import (
    Cancel,
    Rejected,
    ReportProgress,
    StartAttempt,
    decide,
    evolve,
    fold,
)

REC, JOB = "rec-1", "job-1"


def run(state, command):
    produced = decide(command, state)
    for event in produced:
        state = evolve(state, event)
    return state, [type(e).__name__ for e in produced]


def queued():
    upload = UploadRecording(
        recording_id=REC, filename="a.ogg", content_type="audio/ogg", size_bytes=1, blob_key="k", blob_digest="d", job_id=JOB
    )
    return run(fold([]), upload)[0]


def test_a_queued_job_is_cancelled_at_once_and_never_starts():
    state, produced = run(queued(), CancelTranscription(recording_id=REC, job_id=JOB))
    assert produced == ["TranscriptionCancelRequested", "TranscriptionCancelled"]
    with pytest.raises(Rejected) as err:
        decide(StartAttempt(job_id=JOB, worker="w", model="m"), state)
    assert err.value.code == "job_finished"
    assert run(state, CancelTranscription(recording_id=REC, job_id=JOB))[1] == [], "a repeat is harmless"


def test_a_running_job_is_asked_to_stop_and_the_worker_ends_it():
    state, _ = run(queued(), StartAttempt(job_id=JOB, worker="w", model="m"))
    state, produced = run(state, CancelTranscription(recording_id=REC, job_id=JOB))
    assert produced == ["TranscriptionCancelRequested"]
    with pytest.raises(Rejected) as err:
        decide(ReportProgress(job_id=JOB, attempt=1, stage="transcribing", progress=0.5, processed_s=1.0), state)
    assert err.value.code == "cancel_requested", "a worker that appends learns it must stop"
    state, produced = run(state, Cancel(job_id=JOB, attempt=1))
    assert produced == ["TranscriptionCancelled"] and state.jobs[JOB].status == "cancelled"


def test_the_worker_cannot_cancel_what_nobody_asked_to_cancel():
    state, _ = run(queued(), StartAttempt(job_id=JOB, worker="w", model="m"))
    with pytest.raises(Rejected) as err:
        decide(Cancel(job_id=JOB, attempt=1), state)
    assert err.value.code == "cancel_not_requested"


def test_a_finished_job_ignores_cancel():
    state, _ = run(queued(), StartAttempt(job_id=JOB, worker="w", model="m"))
    state = evolve(state, ev.TranscriptionCompleted(job_id=JOB, language="en", duration_s=1, segment_count=0, processing_s=1))
    assert run(state, CancelTranscription(recording_id=REC, job_id=JOB))[1] == []
