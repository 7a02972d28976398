"""Request and response bodies of the public API (msgspec structs), and the views that fill them from rows."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, Self, TypeVar

import msgspec

from voxledger.contracts import events
from voxledger.contracts.failures import public_message
from voxledger.contracts.insights import INSIGHT_KINDS
from voxledger.contracts.readmodels import InsightRow, JobRow, LiveSessionRow, RecordingRow, SearchHitRow, SegmentRow
from voxledger.gateway.domain.models import ServedModel
from voxledger.gateway.domain.options import MAX_HOTWORDS_CHARS, MAX_PROMPT_CHARS
from voxledger.gateway.domain.speakers import MAX_SPEAKERS, SpeakerSegment
from voxledger.gateway.domain.validation import (
    LANGUAGE_PATTERN,
    MULTILINE_PATTERN,
    SINGLE_LINE_PATTERN,
    UUID_PATTERN,
)


def _documented(**schema: Any) -> msgspec.Meta:
    """OpenAPI constraints that our validators enforce (with the API's codes), not msgspec (with a bare 400)."""
    examples = schema.pop("examples", None)
    return msgspec.Meta(extra_json_schema={"extra": schema, **({"examples": examples} if examples else {})})


T = TypeVar("T")
Row = TypeVar("Row")  # a read-model row (voxledger.contracts.readmodels)


class Page(msgspec.Struct, Generic[T]):
    """One page of a cursor-paginated list; `next_cursor` is null on the last page.

    Each list has its own subclass, which restates `items` with its item type: the OpenAPI document
    then names the page and its items (Litestar does not resolve a generic base's type variable).
    """

    items: list[T]
    next_cursor: str | None

    @classmethod
    def of(cls, rows: Sequence[Row], limit: int, view: Callable[[Row], T], cursor_of: Callable[[Row], str]) -> Self:
        """The page from `limit + 1` rows: the extra row is not shown, it only says that a next page exists."""
        next_cursor = cursor_of(rows[limit - 1]) if len(rows) > limit else None
        return cls([view(row) for row in rows[:limit]], next_cursor)


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


class CancelAccepted(msgspec.Struct, kw_only=True):
    job_id: str
    recording_id: str
    status: str  # cancelling, or cancelled when it already was


class DeleteAccepted(msgspec.Struct, kw_only=True):
    recording_id: str
    status: str  # deleting: its jobs are cancelled, its audio and read models removed


class SearchHit(msgspec.Struct, kw_only=True):
    recording_id: str
    job_id: str
    filename: str
    segment_index: int | None  # the segment matched by its words; null for a passage found by meaning only
    start: float  # seconds from the start of the recording: where to jump to
    end: float
    snippet: str  # the text with the matched words in <mark></mark>
    rank: float  # the score, under its older name
    links: Links
    text: str = ""  # the segment's or passage's text
    speaker: str | None = None  # a passage's speaker (a label, or the name given to it)
    score: float = 0.0  # keyword: full-text rank; semantic: cosine similarity; hybrid: fused rank (RRF)


class SearchPage(Page[SearchHit]):
    items: list[SearchHit]


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
    priority: str  # among the tenant's own queued jobs: high, normal or low
    queue_position: int | None  # 1: the next job a free worker takes (tenants take turns; see README, Fair queues)
    options: dict[str, Any]
    model: str | None
    worker: str | None
    language: str | None
    language_probability: float | None  # the detector's confidence in `language` (1.0 where the job named it)
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


class JobPage(Page[Job]):
    items: list[Job]


class Queue(msgspec.Struct):
    items: list[Job]


class ReadModelError(msgspec.Struct, kw_only=True):
    """The read model of this recording is incomplete: one of its events could not be projected."""

    code: str  # event_quarantined
    seq: int  # the event's stream sequence (see `voxledger projections quarantine`)


class Recording(msgspec.Struct, kw_only=True):
    recording_id: str
    name: str  # as named; else the filename, or "Live <start>" for a live session's recording
    tags: list[str]
    folder: str
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
    source: str = "upload"  # or "live": the recording of a live session
    read_model_error: ReadModelError | None = None  # null when the read model holds every event


class RecordingPage(Page[Recording]):
    items: list[Recording]


class Transcript(msgspec.Struct, kw_only=True):
    recording_id: str
    job_id: str
    status: str
    language: str | None
    duration_s: float | None
    text: str
    segments: list[SpeakerSegment]
    language_probability: float | None = None
    speakers: list[str] | None = None  # a diarized job's speaker names, in order of first appearance


class TranscriptionRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The options of a (re-)transcription; an unknown field is a 400, not silently ignored."""

    model: Annotated[str | None, _documented(pattern=SINGLE_LINE_PATTERN, max_length=64, examples=["tiny.en"])] = None
    language: Annotated[str | None, _documented(pattern=LANGUAGE_PATTERN, examples=["en"])] = None
    task: events.Task = "transcribe"
    word_timestamps: bool = False
    vad: bool = False
    prompt: Annotated[
        str | None, _documented(pattern=MULTILINE_PATTERN, max_length=MAX_PROMPT_CHARS, examples=["Acme, Q3 budget"])
    ] = None
    hotwords: Annotated[str | None, _documented(pattern=SINGLE_LINE_PATTERN, max_length=MAX_HOTWORDS_CHARS)] = None
    temperature: Annotated[float | None, _documented(minimum=0, maximum=1)] = None
    # Chunks decoded at once (1: sequential); unset: the transcriber's default.
    batch_size: Annotated[int | None, _documented(minimum=1, maximum=32)] = None
    # Order among this tenant's own queued jobs: high, then normal, then low (tenants take turns regardless).
    # (checked by domain/options.py, so that a bad value gets its own code: invalid_priority)
    priority: Annotated[str | None, _documented(enum=["high", "normal", "low"], examples=["high"])] = None
    # Diarization: "auto" (estimated, within the bounds), "off" (the default) or an exact count.
    speakers: Annotated[str | int | None, _documented(examples=["auto"])] = None
    min_speakers: Annotated[int | None, _documented(minimum=1, maximum=MAX_SPEAKERS)] = None
    max_speakers: Annotated[int | None, _documented(minimum=1, maximum=MAX_SPEAKERS)] = None


def recording_links(recording_id: str, job_id: str | None = None) -> Links:
    base = f"/v1/recordings/{recording_id}"
    return Links(
        recording=base,
        job=f"/v1/jobs/{job_id}" if job_id else None,
        transcript=f"{base}/transcript",
        events=f"{base}/events",
    )


FAILURE_EVENTS = frozenset({"TranscriptionAttemptFailed", "TranscriptionFailed", "InsightFailed"})


def public_event_data(event_type: str, data: msgspec.Raw) -> msgspec.Raw:
    """An event as a tenant sees it on SSE: a failure's recorded message is replaced by its plain one, and
    passages come without their embeddings (kilobytes each, of use only to the search index)."""
    if event_type in FAILURE_EVENTS:
        body = msgspec.json.decode(data)
        body["message"] = public_message(str(body.get("error_code", "")))
        return msgspec.Raw(msgspec.json.encode(body))
    if event_type == "PassagesEmbedded":
        body = msgspec.json.decode(data)
        body["passages"] = [{k: v for k, v in p.items() if k != "vector"} for p in body.get("passages", [])]
        return msgspec.Raw(msgspec.json.encode(body))
    return data


def _error(error_code: str | None) -> JobError | None:
    return JobError(error_code, public_message(error_code)) if error_code else None


def job_view(row: JobRow, queue_position: int | None = None, queued_eta_s: float | None = None) -> Job:
    """A job; a queued one with its place in the fair queue and the ETA that follows from it (domain/queue.py)."""
    extra = {
        "queue_position": queue_position,
        **({"eta_s": queued_eta_s} if queue_position is not None else {}),
        "error": _error(row.error_code),
        "links": recording_links(row.recording_id, row.job_id),
    }
    return msgspec.convert({**msgspec.structs.asdict(row), **extra}, Job)


def display_name(row: RecordingRow) -> str:
    """What a recording is called: the name a person gave it, else its file's, else when its live session began."""
    if row.name:
        return row.name
    if row.source == "live":
        return f"Live {row.created_at:%Y-%m-%d %H:%M}"
    return row.filename


def download_stem(row: RecordingRow) -> str:
    """What an export of the recording is called before its format: its name, else its file's without the
    audio extension (`call.ogg` exports as `call.srt`)."""
    if row.name or row.source == "live":
        return display_name(row)
    stem, dot, _ = row.filename.rpartition(".")
    return stem if dot and stem else row.filename


def recording_view(row: RecordingRow, jobs: list[Job] | None = None) -> Recording:
    links = recording_links(row.recording_id, row.latest_job_id)
    fields = {**msgspec.structs.asdict(row), "name": display_name(row), "links": links, "jobs": jobs}
    return msgspec.convert(fields, Recording)


class RecordingDescription(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What to change of a recording's name, tags and folder; a field left out keeps its value."""

    name: Annotated[str | None, _documented(pattern=SINGLE_LINE_PATTERN, max_length=200, examples=["Weekly sync"])] = (
        None
    )
    tags: Annotated[list[str] | None, _documented(max_items=20, examples=[["sales", "q3"]])] = None
    folder: Annotated[str | None, _documented(pattern=SINGLE_LINE_PATTERN, max_length=100, examples=["Customers"])] = (
        None
    )


def segment_view(row: SegmentRow) -> events.Segment:
    return events.Segment(
        index=row.idx,
        start=row.start_s,
        end=row.end_s,
        text=row.text,
        avg_logprob=row.avg_logprob,
        no_speech_prob=row.no_speech_prob,
        words=row.words or None,
    )


class Insight(msgspec.Struct, kw_only=True):
    status: str
    engine: str | None
    payload: dict[str, Any] | None
    error: JobError | None
    processing_s: float | None
    requested_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


class Insights(msgspec.Struct, kw_only=True):
    recording_id: str
    job_id: str
    run_id: str | None
    status: str  # queued | running | completed | partial | failed
    insights: dict[str, Insight]


class InsightsRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kinds: Annotated[
        list[str] | None,
        _documented(
            items={"type": "string", "enum": list(INSIGHT_KINDS)}, max_items=len(INSIGHT_KINDS), examples=[["summary"]]
        ),
    ] = None
    job_id: Annotated[str | None, _documented(format="uuid", pattern=UUID_PATTERN)] = None


class InsightsAccepted(msgspec.Struct, kw_only=True):
    recording_id: str
    job_id: str
    run_id: str
    kinds: list[str]
    links: Links


def insight_view(row: InsightRow) -> Insight:
    return msgspec.convert({**msgspec.structs.asdict(row), "error": _error(row.error_code)}, Insight)


def insights_status(statuses: list[str]) -> str:
    """One word for the run: still going, all ready, some failed, or all failed."""
    if not statuses:
        return "queued"
    if any(s in ("pending", "running") for s in statuses):
        return "running"
    if all(s == "ready" for s in statuses):
        return "completed"
    return "partial" if "ready" in statuses else "failed"


def search_hit_view(row: SearchHitRow) -> SearchHit:
    return SearchHit(
        recording_id=row.recording_id,
        job_id=row.job_id,
        filename=row.filename,
        segment_index=row.idx,
        start=row.start_s,
        end=row.end_s,
        snippet=row.snippet,
        rank=round(row.rank, 6),
        links=recording_links(row.recording_id, row.job_id),
        text=row.text,
        score=round(row.rank, 6),
    )


class LiveSession(msgspec.Struct, kw_only=True):
    session_id: str
    recording_id: str
    job_id: str
    status: str  # live | ended
    sample_rate: int
    encoding: str
    model: str
    language: str | None
    worker: str | None
    end_reason: str | None
    duration_s: float | None
    stats: dict[str, Any] | None
    started_at: datetime
    ended_at: datetime | None
    updated_at: datetime
    finals: list[events.Segment] | None = None


class LiveSessionPage(Page[LiveSession]):
    items: list[LiveSession]


def live_session_view(row: LiveSessionRow, finals: list[events.Segment] | None = None) -> LiveSession:
    fields = msgspec.structs.asdict(row)
    return msgspec.convert({**fields, "recording_id": row.session_id, "finals": finals}, LiveSession)


class OpenAIModel(msgspec.Struct):
    """A model in OpenAI's shape."""

    id: str
    object: str
    created: int
    owned_by: str


class ModelList(msgspec.Struct, kw_only=True):
    """voxledger's listing (`items`, `default`) and OpenAI's (`object`, `data`) in one body, so both clients read it."""

    items: list[ServedModel]
    default: str
    object: str = "list"
    data: list[OpenAIModel] = msgspec.field(default_factory=list)


class SseEvent(msgspec.Struct):
    """The `data` of a server-sent event: the event as a tenant sees it."""

    seq: int
    type: str
    recording_id: str
    occurred_at: str
    data: msgspec.Raw


class RecordingDescribed(msgspec.Struct, kw_only=True):
    """The recording's name, tags and folder once the change is in (the consistency token says when)."""

    recording_id: str
    name: str
    tags: list[str]
    folder: str
