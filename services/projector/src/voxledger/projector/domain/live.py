"""Live sessions in the read models: a `live_sessions` row, and a recording (source `live`) with a running job.

The finals are SegmentsTranscribed of that job and land in `segments` like any transcript; the
TranscriptionCompleted that follows LiveSessionEnded completes the job and the recording.
"""

from collections.abc import Callable
from typing import Any

import msgspec

from voxledger.contracts import events as ev
from voxledger.contracts.envelope import Envelope
from voxledger.contracts.tracecontext import trace_id_of
from voxledger.projector.domain.ops import Op, Update, Upsert


def _taken_over(meta: Envelope, event: ev.LiveSessionTakenOver, seq: int) -> list[Op]:
    rid, at = meta.aggregate_id, meta.occurred_at
    return [
        Update("live_sessions", {"session_id": rid}, {"worker": event.worker, "updated_at": at, "last_seq": seq}),
        Update("jobs", {"job_id": event.job_id}, {"worker": event.worker, "updated_at": at, "last_seq": seq}),
    ]


def _ended(meta: Envelope, event: ev.LiveSessionEnded, seq: int) -> list[Op]:
    rid, at = meta.aggregate_id, meta.occurred_at
    session = {
        "status": "ended",
        "end_reason": event.reason,
        "duration_s": event.duration_s,
        "stats": msgspec.to_builtins(event.stats),
        "ended_at": at,
        "updated_at": at,
        "last_seq": seq,
    }
    recording = {"size_bytes": event.size_bytes, "blob_digest": event.blob_digest, "updated_at": at, "last_seq": seq}
    return [
        Update("live_sessions", {"session_id": rid}, session),
        Update("recordings", {"recording_id": rid}, recording),
    ]


def _started(meta: Envelope, event: ev.LiveSessionStarted, seq: int) -> list[Op]:
    rid, at, tenant = meta.aggregate_id, meta.occurred_at, meta.tenant_id
    recording = {
        "tenant_id": tenant,
        "filename": f"live-{rid}.wav",
        "content_type": "audio/wav",
        "size_bytes": 0,
        "blob_digest": "",
        "status": "live",
        "source": "live",
        "latest_job_id": event.job_id,
        "created_at": at,
        "updated_at": at,
        "last_seq": seq,
    }
    job = {
        "recording_id": rid,
        "tenant_id": tenant,
        "status": "running",
        "stage": "transcribing",
        "attempt": 1,
        "options": msgspec.to_builtins(event.options),
        "model": event.model,
        "worker": event.worker,
        "trace_id": trace_id_of(meta.traceparent),
        "created_at": at,
        "started_at": at,
        "updated_at": at,
        "last_seq": seq,
    }
    session = {
        "tenant_id": tenant,
        "job_id": event.job_id,
        "status": "live",
        "sample_rate": event.sample_rate,
        "encoding": event.encoding,
        "model": event.model,
        "language": event.options.language,
        "worker": event.worker,
        "started_at": at,
        "updated_at": at,
        "last_seq": seq,
    }
    return [
        Upsert("recordings", {"recording_id": rid}, recording),
        Upsert("jobs", {"job_id": event.job_id}, job),
        Upsert("live_sessions", {"session_id": rid}, session),
    ]


PROJECTORS: dict[type, Callable[[Envelope, Any, int], list[Op]]] = {
    ev.LiveSessionStarted: _started,
    ev.LiveSessionTakenOver: _taken_over,
    ev.LiveSessionEnded: _ended,
}
