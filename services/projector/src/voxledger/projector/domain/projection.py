"""The read-model projection as a pure function: one event in, row operations out.

The adapter applies the operations of a whole batch in one transaction that
also advances the checkpoint, so a redelivered event never changes a row twice.
"""

from datetime import datetime

import msgspec

from voxledger.contracts import events as ev
from voxledger.contracts.envelope import Message
from voxledger.runtime.telemetry import trace_id_of


class Upsert(msgspec.Struct, frozen=True):
    table: str
    key: dict
    values: dict


class Update(msgspec.Struct, frozen=True):
    """UPDATE table SET values WHERE every key column matches (no row matched: no effect)."""

    table: str
    key: dict
    values: dict


class InsertMany(msgspec.Struct, frozen=True):
    """Insert rows, ignoring those whose primary key already exists."""

    table: str
    rows: list[dict]


class Purge(msgspec.Struct, frozen=True):
    """Drops every row of a recording, now and for any later event of it (a deleted recording stays deleted)."""

    recording_id: str
    tenant_id: str
    at: datetime


Op = Upsert | Update | InsertMany | Purge

JOB_STATUS_BY_EVENT = {
    ev.TranscriptionStarted: "running",
    ev.TranscriptionCompleted: "completed",
    ev.TranscriptionAttemptFailed: "queued",
    ev.TranscriptionFailed: "failed",
    ev.TranscriptionCancelled: "cancelled",
}


# The events a command handler decides: a read-your-writes token (the command's id) is
# satisfied once the newest of them is projected.
COMMAND_EFFECTS = (
    ev.RecordingUploaded,
    ev.TranscriptionRequested,
    ev.TranscriptionCancelRequested,
    ev.TranscriptionCancelled,
    ev.TranscriptionFailed,
    ev.InsightsRequested,
    ev.RecordingDeleted,
)


def project(message: Message, seq: int) -> list[Op]:
    ops = _project(message, seq)
    meta = message.envelope
    if meta.causation_id and isinstance(message.body, COMMAND_EFFECTS):
        ops.append(Upsert("command_effects", {"command_id": meta.causation_id}, {"seq": seq, "recorded_at": meta.occurred_at}))
    return ops


def _project(message: Message, seq: int) -> list[Op]:
    meta, event = message.envelope, message.body
    at = meta.occurred_at
    rid = meta.aggregate_id
    match event:
        case ev.ApiKeyIssued():
            row = {"tenant_id": meta.tenant_id, "key_hash": event.key_hash, "prefix": event.prefix}
            return [Upsert("api_keys", {"key_id": rid}, {**row, "name": event.label, "created_at": at})]
        case ev.RecordingUploaded():
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
            return [Upsert("recordings", {"recording_id": rid}, values)]
        case ev.TranscriptionRequested():
            job = {
                "recording_id": rid,
                "tenant_id": meta.tenant_id,
                "status": "queued",
                "stage": "queued",
                "options": msgspec.to_builtins(event.options),
                "trace_id": trace_id_of(meta.traceparent),
                "created_at": at,
                "updated_at": at,
                "last_seq": seq,
            }
            recording = {"latest_job_id": event.job_id, "status": "queued", "updated_at": at, "last_seq": seq}
            return [
                Upsert("jobs", {"job_id": event.job_id}, job),
                Update("recordings", {"recording_id": rid}, recording),
            ]
        case ev.TranscriptionProgressed():
            values = {
                "stage": event.stage,
                "progress": event.progress,
                "processed_s": event.processed_s,
                "eta_s": event.eta_s,
            }
            return [_job(event.job_id, at, seq, values)]
        case ev.SegmentsTranscribed():
            rows = [
                {
                    "job_id": event.job_id,
                    "idx": s.index,
                    "recording_id": rid,
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
        case (
            ev.TranscriptionStarted()
            | ev.TranscriptionCompleted()
            | ev.TranscriptionAttemptFailed()
            | ev.TranscriptionFailed()
            | ev.TranscriptionCancelled()
        ):
            status = JOB_STATUS_BY_EVENT[type(event)]
            ops: list[Op] = [_job(event.job_id, at, seq, {"status": status, **_job_details(event, at)})]
            ops.append(
                Update(
                    "recordings",
                    {"recording_id": rid, "latest_job_id": event.job_id},
                    {"status": status, "updated_at": at, "last_seq": seq, **_recording_details(event)},
                )
            )
            if isinstance(event, ev.TranscriptionCompleted):
                # The newest completed transcript is the one search finds, whichever job is latest.
                ops.append(Update("recordings", {"recording_id": rid}, {"transcript_job_id": event.job_id}))
            return ops
        case ev.RecordingDeleted():
            return [Purge(rid, meta.tenant_id, at)]
        case ev.InsightsRequested():
            values = {
                "recording_id": rid,
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
        case ev.InsightStarted():
            return [_insight(event, {"status": "running", "started_at": at, "updated_at": at})]
        case ev.InsightReady():
            values = {
                "status": "ready",
                "engine": event.engine,
                "payload": msgspec.to_builtins(event.payload),
                "processing_s": event.processing_s,
                "finished_at": at,
                "updated_at": at,
            }
            return [_insight(event, values)]
        case ev.InsightFailed():
            values = {
                "status": "failed",
                "error_code": event.error_code,
                "error_message": event.message,
                "finished_at": at,
                "updated_at": at,
            }
            return [_insight(event, values)]
        case ev.LiveSessionStarted() | ev.LiveSessionTakenOver() | ev.LiveSessionEnded():
            from voxledger.projector.domain.live import project_live  # here: live.py builds on this module's ops

            return project_live(message, seq)
    return []


def _insight(event: ev.InsightStarted | ev.InsightReady | ev.InsightFailed, values: dict) -> Update:
    """Only the current run's row: a stale run's late event matches no row."""
    return Update("insights", {"job_id": event.job_id, "kind": event.kind, "run_id": event.run_id}, values)


def _job(job_id: str, at, seq: int, values: dict) -> Update:
    return Update("jobs", {"job_id": job_id}, {**values, "updated_at": at, "last_seq": seq})


def _job_details(event: ev.Event, at) -> dict:
    match event:
        case ev.TranscriptionStarted():
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
        case ev.TranscriptionCompleted():
            return {
                "stage": "finalizing",
                "progress": 1.0,
                "eta_s": 0.0,
                "language": event.language,
                "duration_s": event.duration_s,
                "segment_count": event.segment_count,
                "processing_s": event.processing_s,
                "finished_at": at,
            }
        case ev.TranscriptionAttemptFailed():
            retry_at = datetime.fromisoformat(event.retry_at) if event.retry_at else None
            return {
                "stage": "queued",
                "error_code": event.error_code,
                "error_message": event.message,
                "retry_at": retry_at,
            }
        case ev.TranscriptionFailed():
            return {"error_code": event.error_code, "error_message": event.message, "finished_at": at}
        case ev.TranscriptionCancelled():
            return {"finished_at": at}
    return {}


def _recording_details(event: ev.Event) -> dict:
    if isinstance(event, ev.TranscriptionCompleted):
        return {"duration_s": event.duration_s}
    return {}
