"""The read-model projection as a pure function: one event in, row operations out.

Each event type has one small function, found through PROJECTORS; an event type
with none changes no row. The adapter applies the operations of a whole batch in
one transaction that also advances the checkpoint, so a redelivered event never
changes a row twice.
"""

import struct
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from voxledger.contracts import events as ev
from voxledger.contracts.envelope import Envelope, Message
from voxledger.contracts.tracecontext import trace_id_of
from voxledger.projector.domain import live, webhooks
from voxledger.projector.domain.ops import InsertMany, Op, Purge, Row, Update, Upsert

__all__ = ["COMMAND_EFFECTS", "PROJECTORS", "project"]

# The events a command handler decides: a read-your-writes token (the command's id) is
# satisfied once the last of them is projected. A handler appends them one by one, so the
# effect is recorded only at the end of its append (`commit_remaining` 0), never midway.
COMMAND_EFFECTS = (
    ev.RecordingUploaded,
    ev.TranscriptionRequested,
    ev.TranscriptionCancelRequested,
    ev.TranscriptionCancelled,
    ev.TranscriptionFailed,
    ev.InsightsRequested,
    ev.RecordingDeleted,
    ev.SpeakersNamed,
    ev.DiarizationRequested,
    ev.RecordingDescribed,
    *webhooks.COMMAND_EFFECTS,
)

Projector = Callable[[Envelope, Any, int], list[Op]]  # (envelope, event, seq) -> operations


def project(message: Message, seq: int) -> list[Op]:
    meta, event = message.envelope, message.body
    projector = PROJECTORS.get(type(event))
    ops = projector(meta, event, seq) if projector else []
    if meta.causation_id and not meta.commit_remaining and isinstance(event, COMMAND_EFFECTS):
        effect = {"tenant_id": meta.tenant_id, "seq": seq, "recorded_at": meta.occurred_at}
        ops.append(Upsert("command_effects", {"command_id": meta.causation_id}, effect))
    return ops


def _api_key_issued(meta: Envelope, event: ev.ApiKeyIssued, seq: int) -> list[Op]:
    row = {"tenant_id": meta.tenant_id, "key_hash": event.key_hash, "prefix": event.prefix, "name": event.label}
    values = {**row, "scope": event.scope, "expires_at": event.expires_at, "created_at": meta.occurred_at}
    return [Upsert("api_keys", {"key_id": meta.aggregate_id}, values)]


def _api_key_revoked(meta: Envelope, event: ev.ApiKeyRevoked, seq: int) -> list[Op]:
    # A later revocation is only ever appended with an earlier effective time (runtime.keys.revoke)
    return [Update("api_keys", {"key_id": meta.aggregate_id}, {"revoked_at": event.effective_at})]


def _api_key_used(meta: Envelope, event: ev.ApiKeyUsed, seq: int) -> list[Op]:
    return [Update("api_keys", {"key_id": meta.aggregate_id}, {"last_used_at": event.at})]


def _recording_uploaded(meta: Envelope, event: ev.RecordingUploaded, seq: int) -> list[Op]:
    at = meta.occurred_at
    values = {
        "tenant_id": meta.tenant_id,
        "filename": event.filename,
        "content_type": event.content_type,
        "size_bytes": event.size_bytes,
        "blob_digest": event.blob_digest,
        "status": "uploaded",
        "created_at": at,
        "updated_at": at,
        "last_seq": seq,
    }
    return [Upsert("recordings", {"recording_id": meta.aggregate_id}, values)]


def _transcription_requested(meta: Envelope, event: ev.TranscriptionRequested, seq: int) -> list[Op]:
    at = meta.occurred_at
    job = {
        "recording_id": meta.aggregate_id,
        "tenant_id": meta.tenant_id,
        "status": "queued",
        "stage": "queued",
        "options": msgspec.to_builtins(event.options),
        "priority": event.options.priority,
        "queued_seq": seq,
        "trace_id": trace_id_of(meta.traceparent),
        "created_at": at,
        "updated_at": at,
        "last_seq": seq,
    }
    recording = {"latest_job_id": event.job_id, "status": "queued", "updated_at": at, "last_seq": seq}
    return [
        Upsert("jobs", {"job_id": event.job_id}, job),
        Update("recordings", {"recording_id": meta.aggregate_id}, recording),
    ]


def _transcription_progressed(meta: Envelope, event: ev.TranscriptionProgressed, seq: int) -> list[Op]:
    values = {"stage": event.stage, "progress": event.progress, "processed_s": event.processed_s, "eta_s": event.eta_s}
    return [_job(event.job_id, meta.occurred_at, seq, values)]


def _segments_transcribed(meta: Envelope, event: ev.SegmentsTranscribed, seq: int) -> list[Op]:
    rows = [
        {
            "job_id": event.job_id,
            "idx": s.index,
            "recording_id": meta.aggregate_id,
            "tenant_id": meta.tenant_id,
            "start_s": s.start,
            "end_s": s.end,
            "text": s.text,
            "avg_logprob": s.avg_logprob,
            "no_speech_prob": s.no_speech_prob,
            "words": msgspec.to_builtins(s.words) if s.words else None,
        }
        for s in event.segments
    ]
    return [InsertMany("segments", rows)]


def _passages_embedded(meta: Envelope, event: ev.PassagesEmbedded, seq: int) -> list[Op]:
    rows = [
        {
            "job_id": event.job_id,
            "idx": p.index,
            "recording_id": meta.aggregate_id,
            "tenant_id": meta.tenant_id,
            "kind": p.kind,
            "start_s": p.start,
            "end_s": p.end,
            "speaker": p.speaker,
            "text": p.text,
            "model": event.model,
            "embedding": vector_text(p.vector, event.dimensions),
        }
        for p in event.passages
    ]
    return [InsertMany("passages", rows)]


def vector_text(vector: bytes, dimensions: int) -> str:
    """float32 little-endian bytes as pgvector's text form; 9 significant digits give each float32 back exactly."""
    return "[" + ",".join(format(x, ".9g") for x in struct.unpack(f"<{dimensions}f", vector)) + "]"


def _speakers_diarized(meta: Envelope, event: ev.SpeakersDiarized, seq: int) -> list[Op]:
    turns = [[t.start, t.end, t.speaker] for t in event.turns]
    values: Row = {"speaker_turns": turns}
    if event.run_id is not None:
        values["speaker_names"] = None  # a re-run's labels are new: names given to the old ones do not carry
    return [_job(event.job_id, meta.occurred_at, seq, values)]


def _diarization_requested(meta: Envelope, event: ev.DiarizationRequested, seq: int) -> list[Op]:
    return [_job(event.job_id, meta.occurred_at, seq, {"diarization_run_id": event.run_id})]


def _recording_described(meta: Envelope, event: ev.RecordingDescribed, seq: int) -> list[Op]:
    values = {
        "name": event.name,
        "tags": event.tags,
        "folder": event.folder,
        "updated_at": meta.occurred_at,
        "last_seq": seq,
    }
    return [Update("recordings", {"recording_id": meta.aggregate_id}, values)]


def _speakers_named(meta: Envelope, event: ev.SpeakersNamed, seq: int) -> list[Op]:
    return [_job(event.job_id, meta.occurred_at, seq, {"speaker_names": event.names})]


JobChange = (
    ev.TranscriptionStarted
    | ev.TranscriptionCompleted
    | ev.TranscriptionAttemptFailed
    | ev.TranscriptionFailed
    | ev.TranscriptionCancelled
)


def _job_status(status: str, details: Callable[[Any, datetime], Row]) -> Projector:
    """A job event that sets the job's status, and its recording's while the job is the latest."""

    def project_status(meta: Envelope, event: JobChange, seq: int) -> list[Op]:
        at, rid = meta.occurred_at, meta.aggregate_id
        recording = {"status": status, "updated_at": at, "last_seq": seq}
        if isinstance(event, ev.TranscriptionCompleted):
            recording["duration_s"] = event.duration_s
        ops: list[Op] = [
            _job(event.job_id, at, seq, {"status": status, **details(event, at)}),
            Update("recordings", {"recording_id": rid, "latest_job_id": event.job_id}, recording),
        ]
        if isinstance(event, ev.TranscriptionCompleted):
            # The newest completed transcript is the one search finds, whichever job is latest.
            ops.append(Update("recordings", {"recording_id": rid}, {"transcript_job_id": event.job_id}))
        return ops

    return project_status


def _started(event: ev.TranscriptionStarted, at: datetime) -> Row:
    return {
        "attempt": event.attempt,
        "worker": event.worker,
        "model": event.model,
        "stage": "loading_audio",
        "started_at": at,
        "error_code": None,
        "error_message": None,
        "retry_at": None,
    }


def _completed(event: ev.TranscriptionCompleted, at: datetime) -> Row:
    return {
        "stage": "finalizing",
        "progress": 1.0,
        "eta_s": 0.0,
        "language": event.language,
        "language_probability": event.language_probability,
        "duration_s": event.duration_s,
        "segment_count": event.segment_count,
        "processing_s": event.processing_s,
        "finished_at": at,
    }


def _attempt_failed(event: ev.TranscriptionAttemptFailed, at: datetime) -> Row:
    retry_at = datetime.fromisoformat(event.retry_at) if event.retry_at else None
    return {"stage": "queued", "error_code": event.error_code, "error_message": event.message, "retry_at": retry_at}


def _failed(event: ev.TranscriptionFailed, at: datetime) -> Row:
    return {"error_code": event.error_code, "error_message": event.message, "finished_at": at}


def _cancelled(event: ev.TranscriptionCancelled, at: datetime) -> Row:
    return {"finished_at": at}


def _recording_deleted(meta: Envelope, event: ev.RecordingDeleted, seq: int) -> list[Op]:
    return [Purge(meta.aggregate_id, meta.tenant_id, meta.occurred_at)]


def _insights_requested(meta: Envelope, event: ev.InsightsRequested, seq: int) -> list[Op]:
    at = meta.occurred_at
    values = {
        "recording_id": meta.aggregate_id,
        "tenant_id": meta.tenant_id,
        "run_id": event.run_id,
        "status": "pending",
        "engine": None,
        "payload": None,
        "error_code": None,
        "error_message": None,
        "processing_s": None,
        "requested_at": at,
        "started_at": None,
        "finished_at": None,
        "updated_at": at,
    }
    return [Upsert("insights", {"job_id": event.job_id, "kind": kind}, values) for kind in event.kinds]


def _insight_started(meta: Envelope, event: ev.InsightStarted, seq: int) -> list[Op]:
    at = meta.occurred_at
    return [_insight(event, {"status": "running", "started_at": at, "updated_at": at})]


def _insight_ready(meta: Envelope, event: ev.InsightReady, seq: int) -> list[Op]:
    at = meta.occurred_at
    values = {
        "status": "ready",
        "engine": event.engine,
        "payload": msgspec.to_builtins(event.payload),
        "processing_s": event.processing_s,
        "finished_at": at,
        "updated_at": at,
    }
    return [_insight(event, values)]


def _insight_failed(meta: Envelope, event: ev.InsightFailed, seq: int) -> list[Op]:
    at = meta.occurred_at
    values = {
        "status": "failed",
        "error_code": event.error_code,
        "error_message": event.message,
        "finished_at": at,
        "updated_at": at,
    }
    return [_insight(event, values)]


def _insight(event: ev.InsightStarted | ev.InsightReady | ev.InsightFailed, values: Row) -> Update:
    """Only the current run's row: a stale run's late event matches no row."""
    return Update("insights", {"job_id": event.job_id, "kind": event.kind, "run_id": event.run_id}, values)


def _job(job_id: str, at: datetime, seq: int, values: Row) -> Update:
    return Update("jobs", {"job_id": job_id}, {**values, "updated_at": at, "last_seq": seq})


PROJECTORS: dict[type, Projector] = {
    ev.ApiKeyIssued: _api_key_issued,
    ev.ApiKeyRevoked: _api_key_revoked,
    ev.ApiKeyUsed: _api_key_used,
    ev.RecordingUploaded: _recording_uploaded,
    ev.TranscriptionRequested: _transcription_requested,
    ev.TranscriptionProgressed: _transcription_progressed,
    ev.SegmentsTranscribed: _segments_transcribed,
    ev.PassagesEmbedded: _passages_embedded,
    ev.SpeakersDiarized: _speakers_diarized,
    ev.SpeakersNamed: _speakers_named,
    ev.DiarizationRequested: _diarization_requested,
    ev.RecordingDescribed: _recording_described,
    ev.TranscriptionStarted: _job_status("running", _started),
    ev.TranscriptionCompleted: _job_status("completed", _completed),
    ev.TranscriptionAttemptFailed: _job_status("queued", _attempt_failed),
    ev.TranscriptionFailed: _job_status("failed", _failed),
    ev.TranscriptionCancelled: _job_status("cancelled", _cancelled),
    ev.RecordingDeleted: _recording_deleted,
    ev.InsightsRequested: _insights_requested,
    ev.InsightStarted: _insight_started,
    ev.InsightReady: _insight_ready,
    ev.InsightFailed: _insight_failed,
    **live.PROJECTORS,
    **webhooks.PROJECTORS,
}
