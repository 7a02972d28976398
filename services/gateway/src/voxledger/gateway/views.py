"""Response bodies of the public API."""

from datetime import datetime
from typing import Any

import msgspec


class Links(msgspec.Struct, kw_only=True, omit_defaults=True):
    recording: str | None = None
    job: str | None = None
    transcript: str | None = None
    events: str | None = None


class Accepted(msgspec.Struct, kw_only=True):
    recording_id: str
    job_id: str | None
    status: str
    links: Links


class JobError(msgspec.Struct):
    code: str
    message: str


class Job(msgspec.Struct, kw_only=True):
    job_id: str
    recording_id: str
    status: str
    stage: str
    progress: float
    processed_s: float
    eta_s: float | None
    attempt: int
    queue_position: int | None
    options: dict[str, Any]
    model: str | None
    worker: str | None
    language: str | None
    duration_s: float | None
    segment_count: int | None
    processing_s: float | None
    error: JobError | None
    retry_at: datetime | None
    trace_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    links: Links


class Recording(msgspec.Struct, kw_only=True):
    recording_id: str
    filename: str
    content_type: str
    size_bytes: int
    duration_s: float | None
    status: str
    latest_job_id: str | None
    created_at: datetime
    updated_at: datetime
    links: Links
    jobs: list[Job] | None = None


class RecordingPage(msgspec.Struct):
    items: list[Recording]
    next_cursor: str | None


class Segment(msgspec.Struct, kw_only=True, omit_defaults=True):
    index: int
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: list | None = None


class Transcript(msgspec.Struct, kw_only=True):
    recording_id: str
    job_id: str
    status: str
    language: str | None
    duration_s: float | None
    text: str
    segments: list[Segment]


class TranscriptionRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    model: str | None = None
    language: str | None = None
    task: str = "transcribe"
    word_timestamps: bool = False
    vad: bool = False


def recording_links(recording_id: str, job_id: str | None = None) -> Links:
    base = f"/v1/recordings/{recording_id}"
    return Links(
        recording=base,
        job=f"/v1/jobs/{job_id}" if job_id else None,
        transcript=f"{base}/transcript",
        events=f"{base}/events",
    )


def job_view(row, queue_position: int | None = None) -> Job:
    error = JobError(row["error_code"], row["error_message"] or "") if row["error_code"] else None
    return Job(
        job_id=row["job_id"],
        recording_id=row["recording_id"],
        status=row["status"],
        stage=row["stage"],
        progress=row["progress"],
        processed_s=row["processed_s"],
        eta_s=row["eta_s"],
        attempt=row["attempt"],
        queue_position=queue_position,
        options=row["options"],
        model=row["model"],
        worker=row["worker"],
        language=row["language"],
        duration_s=row["duration_s"],
        segment_count=row["segment_count"],
        processing_s=row["processing_s"],
        error=error,
        retry_at=row["retry_at"],
        trace_id=row["trace_id"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        links=recording_links(row["recording_id"], row["job_id"]),
    )


def recording_view(row, jobs: list[Job] | None = None) -> Recording:
    return Recording(
        recording_id=row["recording_id"],
        filename=row["filename"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        duration_s=row["duration_s"],
        status=row["status"],
        latest_job_id=row["latest_job_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        links=recording_links(row["recording_id"], row["latest_job_id"]),
        jobs=jobs,
    )
