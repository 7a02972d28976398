"""Live sessions in the read models: a live_sessions row and a recording (source live) with a running job."""

from datetime import UTC, datetime

from voxledger.contracts import events as ev
from voxledger.contracts.envelope import decode, encode, seal
from voxledger.projector.domain.ops import Update, Upsert
from voxledger.projector.domain.projection import project

REC = "0190f0c0-0000-7000-8000-0000000000aa"
JOB = "0190f0c0-0000-7000-8000-000000000001"
T0 = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
STATS = ev.LiveSessionStats(final_count=2, mean_confidence=0.8, speech_s=6.5, words_per_minute=140.0)


def projected(body, seq: int = 7):
    return project(decode(encode(seal(body, aggregate_id=REC, tenant_id="acme", occurred_at=T0))), seq)


def by_table(ops) -> dict[str, object]:
    return {op.table: op for op in ops}


def test_a_started_session_is_a_live_recording_with_a_running_job():
    started = ev.LiveSessionStarted(
        job_id=JOB,
        sample_rate=16000,
        encoding="pcm_s16le",
        options=ev.TranscriptionOptions(language="en"),
        worker="live-0-1",
        model="tiny.en",
    )
    ops = by_table(projected(started))
    recording, job, session = ops["recordings"], ops["jobs"], ops["live_sessions"]
    assert isinstance(recording, Upsert) and recording.key == {"recording_id": REC}
    assert recording.values["source"] == "live" and recording.values["status"] == "live"
    assert recording.values["latest_job_id"] == JOB and recording.values["tenant_id"] == "acme"
    assert job.key == {"job_id": JOB} and job.values["status"] == "running" and job.values["model"] == "tiny.en"
    assert session.key == {"session_id": REC}
    expected = {"status": "live", "sample_rate": 16000, "language": "en", "worker": "live-0-1", "last_seq": 7}
    assert {k: session.values[k] for k in expected} == expected


def test_a_takeover_names_the_new_worker():
    ops = by_table(projected(ev.LiveSessionTakenOver(job_id=JOB, worker="live-1-2", resumed_from_s=3.0)))
    assert ops["live_sessions"].values["worker"] == "live-1-2"
    assert ops["jobs"].key == {"job_id": JOB} and ops["jobs"].values["worker"] == "live-1-2"


def test_an_ended_session_keeps_its_statistics_and_its_saved_audio():
    ended = ev.LiveSessionEnded(
        job_id=JOB,
        reason="stopped",
        duration_s=9.0,
        blob_key="recordings/x",
        blob_digest="sha256:ab",
        size_bytes=288044,
        stats=STATS,
    )
    ops = by_table(projected(ended))
    session, recording = ops["live_sessions"], ops["recordings"]
    assert isinstance(session, Update) and session.values["status"] == "ended"
    assert session.values["stats"] == {
        "final_count": 2,
        "mean_confidence": 0.8,
        "speech_s": 6.5,
        "words_per_minute": 140.0,
    }
    assert session.values["end_reason"] == "stopped" and session.values["duration_s"] == 9.0
    assert recording.values["size_bytes"] == 288044 and recording.values["blob_digest"] == "sha256:ab"
