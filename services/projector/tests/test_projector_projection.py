"""The read-model projection: one event in, row operations out."""

import struct
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from voxledger.contracts import events as ev
from voxledger.contracts.commands import RequestTranscription
from voxledger.contracts.envelope import Message, decode, encode, seal
from voxledger.projector.domain.ops import InsertMany, Purge, Update, Upsert
from voxledger.projector.domain.projection import project

REC = "0190f0c0-0000-7000-8000-0000000000aa"
JOB = "0190f0c0-0000-7000-8000-000000000001"
JOB2 = "0190f0c0-0000-7000-8000-000000000002"
TENANT = "acme"
T0 = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def msg(body, at: datetime = T0, traceparent: str | None = None, tenant: str = TENANT, rid: str = REC) -> Message:
    # Through the real codec, as the projector receives it.
    sealed = seal(body, aggregate_id=rid, tenant_id=tenant, occurred_at=at, traceparent=traceparent)
    return decode(encode(sealed))


def job_update(ops, job_id=JOB) -> Update:
    found = [o for o in ops if isinstance(o, Update) and o.table == "jobs"]
    assert len(found) == 1
    assert found[0].key == {"job_id": job_id}
    return found[0]


def recording_update(ops) -> Update:
    """The recording's status update (a completion also names the searchable transcript, separately)."""
    found = [o for o in ops if isinstance(o, Update) and o.table == "recordings" and "status" in o.values]
    assert len(found) == 1
    return found[0]


def test_upload_upserts_the_recording_row():
    body = ev.RecordingUploaded(
        filename="talk.wav", content_type="audio/wav", size_bytes=4096, blob_key="recordings/x", blob_digest="sha256:ff"
    )
    (op,) = project(msg(body), seq=7)
    assert isinstance(op, Upsert)
    assert op.table == "recordings" and op.key == {"recording_id": REC}
    v = op.values
    assert v["tenant_id"] == TENANT
    assert (v["filename"], v["content_type"], v["size_bytes"], v["blob_digest"]) == (
        "talk.wav",
        "audio/wav",
        4096,
        "sha256:ff",
    )
    assert v["status"] == "uploaded"
    assert v["created_at"] == v["updated_at"] == T0
    assert v["last_seq"] == 7
    assert "blob_key" not in v  # storage detail, not part of the read model


def test_request_upserts_a_queued_job_and_points_the_recording_at_it():
    opts = ev.TranscriptionOptions(model="base", language="de", word_timestamps=True)
    ops = project(msg(ev.TranscriptionRequested(job_id=JOB, options=opts), traceparent=TRACEPARENT), seq=8)
    upserts = [o for o in ops if isinstance(o, Upsert)]
    assert len(upserts) == 1 and len(ops) == 2
    job = upserts[0]
    assert job.table == "jobs" and job.key == {"job_id": JOB}
    assert job.values["recording_id"] == REC
    assert job.values["tenant_id"] == TENANT
    assert job.values["status"] == "queued" and job.values["stage"] == "queued"
    assert job.values["options"] == {"model": "base", "language": "de", "word_timestamps": True}
    assert job.values["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert job.values["created_at"] == T0 and job.values["last_seq"] == 8
    assert job.values["priority"] == "normal" and job.values["queued_seq"] == 8  # the fair queue's inputs

    rec = recording_update(ops)
    assert rec.key == {"recording_id": REC}  # unconditional: the newest request becomes the latest job
    assert rec.values["latest_job_id"] == JOB
    assert rec.values["status"] == "queued"
    assert rec.values["last_seq"] == 8 and rec.values["updated_at"] == T0


def test_request_options_are_json_friendly():
    ops = project(msg(ev.TranscriptionRequested(job_id=JOB, options=ev.TranscriptionOptions())), seq=1)
    job = next(o for o in ops if isinstance(o, Upsert))
    assert job.values["options"] == {}
    assert job.values["trace_id"] is None
    msgspec.json.encode(job.values["options"])  # stored as jsonb


def test_started_marks_job_running_and_resets_previous_errors():
    at = T0 + timedelta(seconds=3)
    ops = project(msg(ev.TranscriptionStarted(job_id=JOB, attempt=2, worker="w-9", model="tiny"), at=at), seq=9)
    job = job_update(ops)
    v = job.values
    assert v["status"] == "running"
    assert (v["attempt"], v["worker"], v["model"]) == (2, "w-9", "tiny")
    assert v["started_at"] == at and v["updated_at"] == at and v["last_seq"] == 9
    assert v["error_code"] is None and v["error_message"] is None and v["retry_at"] is None

    rec = recording_update(ops)
    assert rec.key == {"recording_id": REC, "latest_job_id": JOB}
    assert rec.values["status"] == "running"


def test_progress_updates_only_the_job():
    body = ev.TranscriptionProgressed(job_id=JOB, stage="transcribing", progress=0.42, processed_s=12.6, eta_s=17.4)
    (op,) = project(msg(body), seq=10)
    assert isinstance(op, Update) and op.table == "jobs" and op.key == {"job_id": JOB}
    assert {k: op.values[k] for k in ("stage", "progress", "processed_s", "eta_s")} == {
        "stage": "transcribing",
        "progress": 0.42,
        "processed_s": 12.6,
        "eta_s": 17.4,
    }
    assert op.values["last_seq"] == 10
    assert "status" not in op.values


def test_segments_become_rows_with_tenant_recording_and_index():
    words = [ev.Word(0.0, 0.4, " hi", 0.97), ev.Word(0.4, 0.9, " there", 0.88)]
    body = ev.SegmentsTranscribed(
        job_id=JOB,
        segments=[
            ev.Segment(
                index=5, start=0.0, end=0.9, text=" hi there", avg_logprob=-0.2, no_speech_prob=0.01, words=words
            ),
            ev.Segment(index=6, start=0.9, end=2.0, text=" again", avg_logprob=-0.5, no_speech_prob=0.1),
        ],
    )
    (op,) = project(msg(body), seq=11)
    assert isinstance(op, InsertMany) and op.table == "segments"
    first, second = op.rows
    assert [r["idx"] for r in op.rows] == [5, 6]
    for row in op.rows:
        assert row["job_id"] == JOB and row["recording_id"] == REC and row["tenant_id"] == TENANT
    assert (first["start_s"], first["end_s"], first["text"]) == (0.0, 0.9, " hi there")
    assert (first["avg_logprob"], first["no_speech_prob"]) == (-0.2, 0.01)
    assert first["words"] == [[0.0, 0.4, " hi", 0.97], [0.4, 0.9, " there", 0.88]]
    assert second["words"] is None
    msgspec.json.encode(first["words"])  # stored as jsonb


def test_completed_sets_final_job_fields_and_recording_duration():
    at = T0 + timedelta(minutes=1)
    body = ev.TranscriptionCompleted(job_id=JOB, language="en", duration_s=61.5, segment_count=12, processing_s=8.25)
    ops = project(msg(body, at=at), seq=12)
    v = job_update(ops).values
    assert v["status"] == "completed"
    assert v["progress"] == 1.0 and v["eta_s"] == 0.0
    assert (v["language"], v["duration_s"], v["segment_count"], v["processing_s"]) == ("en", 61.5, 12, 8.25)
    assert v["finished_at"] == at

    rec = recording_update(ops)
    assert rec.key == {"recording_id": REC, "latest_job_id": JOB}
    assert rec.values["status"] == "completed" and rec.values["duration_s"] == 61.5
    (transcript,) = [o for o in ops if o.table == "recordings" and "transcript_job_id" in o.values]
    assert transcript.key == {"recording_id": REC}, "the newest completion is searchable, latest job or not"
    assert transcript.values == {"transcript_job_id": JOB}
    assert rec.values["last_seq"] == 12


def test_attempt_failed_requeues_with_retry_at_as_a_datetime():
    body = ev.TranscriptionAttemptFailed(
        job_id=JOB, attempt=1, error_code="internal_error", message="oom", retry_at="2025-06-01T12:00:30.500000+00:00"
    )
    ops = project(msg(body), seq=13)
    v = job_update(ops).values
    assert v["status"] == "queued" and v["stage"] == "queued"
    assert (v["error_code"], v["error_message"]) == ("internal_error", "oom")
    assert isinstance(v["retry_at"], datetime)
    assert v["retry_at"] == T0 + timedelta(seconds=30.5)
    assert v["retry_at"].tzinfo is not None
    assert "finished_at" not in v
    assert recording_update(ops).values["status"] == "queued"


def test_attempt_failed_without_retry_at():
    body = ev.TranscriptionAttemptFailed(job_id=JOB, attempt=1, error_code="e", message="m")
    assert job_update(project(msg(body), seq=1)).values["retry_at"] is None


def test_failed_and_cancelled_are_final():
    at = T0 + timedelta(seconds=9)
    failed = project(msg(ev.TranscriptionFailed(job_id=JOB, error_code="audio_invalid", message="bad"), at=at), seq=14)
    v = job_update(failed).values
    assert (v["status"], v["error_code"], v["error_message"], v["finished_at"]) == (
        "failed",
        "audio_invalid",
        "bad",
        at,
    )
    assert recording_update(failed).values["status"] == "failed"

    cancelled = project(msg(ev.TranscriptionCancelled(job_id=JOB), at=at), seq=15)
    v = job_update(cancelled).values
    assert (v["status"], v["finished_at"]) == ("cancelled", at)
    assert recording_update(cancelled).key == {"recording_id": REC, "latest_job_id": JOB}


def test_job_status_follows_the_lifecycle_in_order():
    events = [
        ev.TranscriptionRequested(job_id=JOB, options=ev.TranscriptionOptions()),
        ev.TranscriptionStarted(job_id=JOB, attempt=1, worker="w", model="m"),
        ev.TranscriptionProgressed(job_id=JOB, stage="transcribing", progress=0.5, processed_s=1.0),
        ev.SegmentsTranscribed(
            job_id=JOB, segments=[ev.Segment(index=0, start=0, end=1, text="x", avg_logprob=0, no_speech_prob=0)]
        ),
        ev.TranscriptionAttemptFailed(job_id=JOB, attempt=1, error_code="e", message="m", retry_at=T0.isoformat()),
        ev.TranscriptionStarted(job_id=JOB, attempt=2, worker="w", model="m"),
        ev.TranscriptionCompleted(job_id=JOB, language="en", duration_s=1, segment_count=1, processing_s=1),
    ]
    job_statuses, rec_statuses, seqs = [], [], []
    for seq, body in enumerate(events, start=100):
        for op in project(msg(body, at=T0 + timedelta(seconds=seq)), seq=seq):
            values = op.values if not isinstance(op, InsertMany) else {}
            if op.table == "jobs" and "status" in values:
                job_statuses.append(values["status"])
            if op.table == "recordings" and "status" in values:
                rec_statuses.append(values["status"])
            if "last_seq" in values:
                seqs.append(values["last_seq"])
    assert job_statuses == ["queued", "running", "queued", "running", "completed"]
    assert rec_statuses == ["queued", "running", "queued", "running", "completed"]
    assert seqs == sorted(seqs)


def test_an_older_job_cannot_overwrite_the_recording_status_of_a_newer_one():
    """After a re-transcription, the recording row follows only its latest job: the key carries latest_job_id."""
    newer = project(msg(ev.TranscriptionRequested(job_id=JOB2, options=ev.TranscriptionOptions())), seq=20)
    assert recording_update(newer).values["latest_job_id"] == JOB2

    late_for_old_job = project(msg(ev.TranscriptionFailed(job_id=JOB, error_code="e", message="m")), seq=21)

    # Apply both to a tiny in-memory "table" with the Update semantics (every key column must match).
    row = {"recording_id": REC, "status": "uploaded", "latest_job_id": JOB}
    for op in [recording_update(newer), recording_update(late_for_old_job)]:
        if all(row.get(k) == v for k, v in op.key.items()):
            row.update(op.values)
    assert row["latest_job_id"] == JOB2
    assert row["status"] == "queued"
    # the old job's own row is still updated
    assert job_update(late_for_old_job, JOB).values["status"] == "failed"


def test_api_key_issued_upserts_the_key():
    (op,) = project(msg(ev.ApiKeyIssued(key_hash="abc", prefix="vx_12", label="ci"), rid="key-1", tenant="t2"), seq=3)
    assert isinstance(op, Upsert)
    assert op.table == "api_keys" and op.key == {"key_id": "key-1"}
    assert op.values == {
        "tenant_id": "t2",
        "key_hash": "abc",
        "prefix": "vx_12",
        "name": "ci",
        "scope": "member",
        "expires_at": None,
        "created_at": T0,
    }


def test_api_key_revocations_and_uses_update_the_key_row():
    revoked = msg(ev.ApiKeyRevoked(effective_at=T0), rid="key-1", tenant="t2")
    assert project(revoked, seq=4) == [Update("api_keys", {"key_id": "key-1"}, {"revoked_at": T0})]
    used = msg(ev.ApiKeyUsed(at=T0), rid="key-1", tenant="t2")
    assert project(used, seq=5) == [Update("api_keys", {"key_id": "key-1"}, {"last_used_at": T0})]


@pytest.mark.parametrize(
    "body",
    [ev.TranscriptionCancelRequested(job_id=JOB), RequestTranscription(recording_id=REC, job_id=JOB)],
    ids=lambda b: type(b).__name__,
)
def test_other_messages_produce_no_ops(body):
    assert project(msg(body), seq=1) == []


def test_recording_deleted_purges_the_recording():
    assert project(msg(ev.RecordingDeleted()), seq=9) == [Purge(REC, TENANT, T0)]


def test_an_event_a_command_decided_records_the_commands_effect():
    command_id = "0190f0c0-0000-7000-8000-0000000000cc"
    sealed = seal(
        ev.TranscriptionCancelRequested(job_id=JOB),
        aggregate_id=REC,
        tenant_id=TENANT,
        occurred_at=T0,
        causation_id=command_id,
    )
    (op,) = project(decode(encode(sealed)), seq=42)
    assert op == Upsert(
        "command_effects", {"command_id": command_id}, {"tenant_id": TENANT, "seq": 42, "recorded_at": T0}
    )


def test_a_commands_effect_is_recorded_only_at_the_last_event_of_its_append():
    """A delete appends CancelRequested, Cancelled, RecordingDeleted one by one: a token satisfied at the
    first of them would let a read run before the recording is deleted."""
    command_id = "0190f0c0-0000-7000-8000-0000000000cd"
    events = [ev.TranscriptionCancelRequested(job_id=JOB), ev.TranscriptionCancelled(job_id=JOB), ev.RecordingDeleted()]
    appended = [
        seal(e, aggregate_id=REC, tenant_id=TENANT, occurred_at=T0, causation_id=command_id, commit_remaining=2 - i)
        for i, e in enumerate(events)
    ]
    effects = [
        [op for op in project(decode(encode(m)), seq=50 + i) if getattr(op, "table", None) == "command_effects"]
        for i, m in enumerate(appended)
    ]
    assert effects == [
        [],
        [],
        [Upsert("command_effects", {"command_id": command_id}, {"tenant_id": TENANT, "seq": 52, "recorded_at": T0})],
    ]


def test_empty_segment_batch_is_harmless():
    ops = project(msg(ev.SegmentsTranscribed(job_id=JOB, segments=[])), seq=1)
    assert all(isinstance(o, InsertMany) and o.rows == [] for o in ops)


def test_projection_is_deterministic():
    m = msg(ev.TranscriptionStarted(job_id=JOB, attempt=1, worker="w", model="m"))
    assert project(m, seq=5) == project(m, seq=5)


def test_every_event_type_has_a_projector_but_those_that_change_no_row():
    from voxledger.contracts.events import EVENT_TYPES
    from voxledger.projector.domain.projection import PROJECTORS

    # a cancel request changes nothing until the worker cancels; InsightsCompleted is implied by the kinds' rows;
    # a chunked job's plan, chunks and chunk results reach the rows as the stitched segments and progress;
    # a diarization re-run's progress is for the recording's event stream (its turns replace the job's at the end)
    assert {n for n, t in EVENT_TYPES.items() if t not in PROJECTORS} == {
        "InsightsCompleted",
        "DiarizationProgressed",
        "TranscriptionCancelRequested",
        "TranscriptionChunked",
        "TranscriptionChunkQueued",
        "ChunkTranscribed",
    }


def test_completed_keeps_the_detected_languages_probability():
    body = ev.TranscriptionCompleted(
        job_id=JOB, language="en", duration_s=1.0, segment_count=1, processing_s=0.5, language_probability=0.91
    )
    assert job_update(project(msg(body), seq=3)).values["language_probability"] == 0.91
    legacy = ev.TranscriptionCompleted(job_id=JOB, language="en", duration_s=1.0, segment_count=1, processing_s=0.5)
    assert job_update(project(msg(legacy), seq=4)).values["language_probability"] is None


def test_passages_become_rows_with_their_vector_in_pgvector_s_text_form_exactly():
    floats = [0.1, -0.25, 1 / 3]
    vector = struct.pack("<3f", *floats)
    body = ev.PassagesEmbedded(
        job_id=JOB,
        model="m",
        dimensions=3,
        passages=[ev.Passage(index=0, kind="turn", start=1.0, end=4.5, text="Hi.", vector=vector, speaker="S1")],
    )
    (op,) = project(msg(body), 7)
    assert isinstance(op, InsertMany) and op.table == "passages"
    (row,) = op.rows
    assert {k: row[k] for k in ("job_id", "idx", "recording_id", "tenant_id", "kind", "speaker", "text")} == {
        "job_id": JOB,
        "idx": 0,
        "recording_id": REC,
        "tenant_id": TENANT,
        "kind": "turn",
        "speaker": "S1",
        "text": "Hi.",
    }
    parsed = [float(x) for x in row["embedding"].strip("[]").split(",")]
    assert struct.pack("<3f", *parsed) == vector, "each float32 read back bit for bit"
