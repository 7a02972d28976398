"""The projector's job rows for sequences of job events, as the web app's unit tests read them.

Each case is a job's events as the tenant's stream sends them (the gateway's SSE payload) and the job as the
API then reports it (the projector's row through the gateway's job view). tests/js/job_fold.test.js folds the
events with the app's `applyEvent` and asserts the same job; this test keeps tests/js/fixtures/job_fold.json
equal to what the projector and the gateway make today. After a change to either:
`uv run python -m tests.test_web_job_fold` rewrites it.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from voxledger.contracts import events as ev
from voxledger.contracts.envelope import Message, seal
from voxledger.contracts.readmodels import JobRow
from voxledger.gateway import schemas
from voxledger.projector.domain.ops import Update, Upsert
from voxledger.projector.domain.projection import project

FIXTURE = Path(__file__).parent / "js" / "fixtures" / "job_fold.json"
RECORDING, JOB, TENANT = "0190a000-0000-7000-8000-000000000001", "0190a000-0000-7000-8000-000000000002", "t1"
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
# The jobs table's defaults (projector migrations 001 and 018); every other column is NULL until an event sets it.
COLUMN_DEFAULTS = {"progress": 0.0, "processed_s": 0.0, "attempt": 0, "priority": "normal"}
COLUMNS = JobRow.__struct_fields__  # the columns the gateway reads

SEGMENT = ev.Segment(index=0, start=0.0, end=1.5, text=" hello", avg_logprob=-0.2, no_speech_prob=0.01)
STARTED = ev.TranscriptionStarted(job_id=JOB, attempt=1, worker="w1", model="tiny.en")
REQUESTED = ev.TranscriptionRequested(job_id=JOB, options=ev.TranscriptionOptions())
COMPLETED = ev.TranscriptionCompleted(
    job_id=JOB, language="en", duration_s=3.0, segment_count=1, processing_s=0.8, language_probability=0.97
)
# A worker's message names what happened inside it; the stream shows the code's public sentence instead.
ATTEMPT_FAILED = ev.TranscriptionAttemptFailed(
    job_id=JOB, attempt=1, error_code="worker_lost", message="lease of w1 expired at /srv/x", retry_at=None
)
FAILED = ev.TranscriptionFailed(job_id=JOB, error_code="audio_undecodable", message="ffmpeg: /data/blobs/ab: bad")


def progressed(stage: ev.Stage, progress: float, eta_s: float | None) -> ev.TranscriptionProgressed:
    return ev.TranscriptionProgressed(job_id=JOB, stage=stage, progress=progress, processed_s=progress * 3, eta_s=eta_s)


def chunked() -> list[ev.Event]:
    spans = [ev.ChunkSpan(index=i, start_s=i * 1.5, end_s=(i + 1) * 1.5) for i in range(2)]
    plan = ev.TranscriptionChunked(job_id=JOB, attempt=1, duration_s=3.0, chunks=spans, planned_at=T0)
    queued = [ev.TranscriptionChunkQueued(job_id=JOB, index=s.index, start_s=s.start_s, end_s=s.end_s) for s in spans]
    done = [ev.ChunkTranscribed(job_id=JOB, index=i, segments=[SEGMENT], processing_s=0.3) for i in range(2)]
    return [plan, *queued, done[0], progressed("transcribing", 0.5, 2.0), done[1]]


def live() -> tuple[list[ev.Event], list[ev.Event]]:
    stats = ev.LiveSessionStats(final_count=1, mean_confidence=0.9, speech_s=1.5, words_per_minute=120.0)
    options = ev.TranscriptionOptions(language="en")
    started = ev.LiveSessionStarted(
        job_id=JOB, sample_rate=16000, encoding="pcm_s16le", options=options, worker="w1", model="tiny.en"
    )
    ended = ev.LiveSessionEnded(
        job_id=JOB, reason="stopped", duration_s=3.0, blob_key="k", blob_digest="d", size_bytes=96000, stats=stats
    )
    return [started, ev.SegmentsTranscribed(job_id=JOB, segments=[SEGMENT])], [ended, COMPLETED]


def cases() -> dict[str, list[ev.Event]]:
    chosen = ev.TranscriptionRequested(
        job_id=JOB, options=ev.TranscriptionOptions(model="small", language="de", priority="high")
    )
    cancel = ev.TranscriptionCancelRequested(job_id=JOB)
    running = [REQUESTED, STARTED, progressed("loading_model", 0.0, None), progressed("transcribing", 0.4, 6.5)]
    segments = ev.SegmentsTranscribed(job_id=JOB, segments=[SEGMENT])
    retried = msgspec.structs.replace(STARTED, attempt=2, worker="w2")
    live_running, live_ended = live()
    return {
        "requested with the default options": [REQUESTED],
        "requested with a model and high priority, then started": [chosen, STARTED],
        "running: loading the model, then transcribing": running,
        "completed": [*running, segments, progressed("finalizing", 1.0, 0.0), COMPLETED],
        "an attempt failed: queued again, with its reason": [REQUESTED, STARTED, ATTEMPT_FAILED],
        "retried after a failed attempt, then completed": [REQUESTED, STARTED, ATTEMPT_FAILED, retried, COMPLETED],
        "failed": [REQUESTED, STARTED, progressed("transcribing", 0.2, 9.0), FAILED],
        "cancelled while queued": [REQUESTED, cancel, ev.TranscriptionCancelled(job_id=JOB)],
        "cancelled while running": [*running, cancel, ev.TranscriptionCancelled(job_id=JOB)],
        "cancelled after a failed attempt": [REQUESTED, STARTED, ATTEMPT_FAILED, ev.TranscriptionCancelled(job_id=JOB)],
        "chunked, then completed": [REQUESTED, STARTED, *chunked(), segments, COMPLETED],
        "a live session, speaking": live_running,
        "a live session, ended and completed": [*live_running, *live_ended],
    }


def sse_payload(message: Message, seq: int) -> dict[str, Any]:
    """The event as GET /v1/events sends it (handlers/recordings.py, sse_frame)."""
    env = message.envelope
    data = schemas.public_event_data(env.type, msgspec.Raw(msgspec.json.encode(message.body)))
    payload = schemas.SseEvent(seq, env.type, env.aggregate_id, env.occurred_at.isoformat(), data)
    return msgspec.json.decode(msgspec.json.encode(payload))


def job_row(messages: list[Message]) -> dict[str, Any]:
    """The jobs row the projector's operations leave, applied as the adapter's SQL applies them."""
    row: dict[str, Any] = {}
    for seq, message in enumerate(messages, start=1):
        for op in project(message, seq):
            if isinstance(op, Upsert | Update) and op.table == "jobs" and op.key == {"job_id": JOB}:
                if isinstance(op, Upsert) and not row:
                    row = dict.fromkeys(COLUMNS) | COLUMN_DEFAULTS | op.key
                row |= op.values if row else {}
    return row


def case(events: list[ev.Event]) -> dict[str, Any]:
    messages = [
        seal(e, aggregate_id=RECORDING, tenant_id=TENANT, event_id=f"e{i}", occurred_at=T0 + timedelta(seconds=i))
        for i, e in enumerate(events)
    ]
    job = msgspec.to_builtins(schemas.job_view(msgspec.convert(job_row(messages), JobRow)))
    return {"events": [sse_payload(m, seq) for seq, m in enumerate(messages, start=1)], "job": job}


def fixture_text() -> str:
    return json.dumps({name: case(events) for name, events in cases().items()}, indent=1, sort_keys=True) + "\n"


def test_the_web_apps_fixture_holds_the_projectors_rows_of_today():
    assert FIXTURE.read_text() == fixture_text(), "stale: run `uv run python -m tests.test_web_job_fold`"


if __name__ == "__main__":
    FIXTURE.write_text(fixture_text())
