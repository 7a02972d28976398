"""Progress as a user watches it: a few minutes of audio with the default (batched) decoding, on the real model,
then a speaker re-run of the same job."""

from datetime import datetime

from tests.helpers import read_events, upload, wait_job

# Bounds relative to the job's own length, so a busy machine (slower throughout) passes as an idle one does.
MAX_SILENT_SHARE = 0.25  # no stretch without a progress report longer than this share of the transcription
MAX_SILENT_S = 2.5  # ... unless it is this short anyway (a fast machine does 5 minutes in a few seconds)


def _at(event: dict) -> float:
    return datetime.fromisoformat(event["occurred_at"]).timestamp()


def _longest_silence(start: float, reports: list[float], end: float) -> float:
    marks = [start, *(t for t in reports if t <= end), end]
    return max(b - a for a, b in zip(marks, marks[1:], strict=False))


def test_a_batched_job_reports_progress_and_segments_as_it_goes(client):
    accepted = upload(client, "bench_300s.ogg", await_visible=False)  # 5 minutes: under the chunk threshold
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    events = read_events(
        client, body["recording_id"], until="TranscriptionCompleted", job_id=body["job_id"], timeout_s=600
    )
    mine = [e for e in events if e["data"].get("job_id") == body["job_id"]]
    started = _at(next(e for e in mine if e["event"] == "TranscriptionStarted"))
    completed = _at(mine[-1])
    appends = [_at(e) for e in mine if e["event"] == "SegmentsTranscribed"]
    progress = [e for e in mine if e["event"] == "TranscriptionProgressed"]

    transcribing = appends[-1] - started
    longest = _longest_silence(started, [_at(e) for e in progress], appends[-1])
    assert longest <= max(MAX_SILENT_S, MAX_SILENT_SHARE * transcribing), (
        f"{longest:.1f} s without a progress report in {transcribing:.1f} s of transcription"
    )

    values = [e["data"]["progress"] for e in progress]
    assert values == sorted(values), f"progress went backwards: {values}"
    reported = sorted({v for e, v in zip(progress, values, strict=True) if e["data"]["stage"] == "transcribing"})
    assert len([v for v in reported if 0 < v < 1]) >= 4, f"too few steps while transcribing: {reported}"

    assert len(appends) >= 3, f"segments came in {len(appends)} append(s), not as they were transcribed"
    assert appends[0] - started < 0.5 * (completed - started), "the first segment came after half the job"

    assert wait_job(client, body["job_id"])["status"] == "completed"  # as the read side shows it: a re-run needs it
    _a_speaker_rerun_reports_progress_as_it_goes(client, body["recording_id"], events[-1]["id"])


def _a_speaker_rerun_reports_progress_as_it_goes(client, recording_id: str, after_id: str) -> None:
    rerun = client.post(f"/v1/recordings/{recording_id}/diarization", json={"speakers": 2})
    assert rerun.status_code == 202, rerun.text
    run_id = rerun.json()["run_id"]
    events = read_events(client, recording_id, until="SpeakersDiarized", last_event_id=after_id, timeout_s=300)
    mine = [e for e in events if e["data"].get("run_id") == run_id]
    requested, diarized = _at(mine[0]), _at(mine[-1])
    assert [mine[0]["event"], mine[-1]["event"]] == ["DiarizationRequested", "SpeakersDiarized"], mine
    progress = [e for e in mine if e["event"] == "DiarizationProgressed"]
    longest = _longest_silence(requested, [_at(e) for e in progress], diarized)
    assert longest <= max(MAX_SILENT_S, MAX_SILENT_SHARE * (diarized - requested)), (
        f"{longest:.1f} s without a progress report in a {diarized - requested:.1f} s re-run"
    )
    values = [e["data"]["progress"] for e in progress]
    assert values == sorted(values) and len({v for v in values if 0 < v < 1}) >= 2, values
