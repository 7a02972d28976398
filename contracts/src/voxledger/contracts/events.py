"""The event catalog. Events are facts; every one carries its schema version.

Each event is a msgspec Struct; its class name is the envelope's `type`. Unknown fields are
ignored on decode, so an older consumer never crashes on a newer producer.
"""

from datetime import datetime
from typing import Any, ClassVar, Literal, get_args

import msgspec

from voxledger.contracts.insights import InsightKind, InsightPayload
from voxledger.contracts.sealing import clear_v1_to_v2

Stage = Literal["queued", "loading_audio", "loading_model", "transcribing", "diarizing", "finalizing"]
Task = Literal["transcribe", "translate"]
Speakers = Literal["auto", "off"] | int
Priority = Literal["high", "normal", "low"]  # orders a tenant's own queued jobs (transcriber dispatch/)
PRIORITY_RANK: dict[str, int] = {p: rank for rank, p in enumerate(get_args(Priority))}  # high 0 … low 2


class Event(msgspec.Struct, kw_only=True):
    SCHEMA_VERSION: ClassVar[int] = 1


class TranscriptionOptions(msgspec.Struct, kw_only=True, omit_defaults=True):
    model: str | None = None
    language: str | None = None
    task: Task = "transcribe"
    word_timestamps: bool = False
    vad: bool = False
    # Decoding hints, passed to faster-whisper as they are (None: its own defaults). Newer fields are optional,
    # so events written before them decode unchanged, and omitted when unset, so old consumers see nothing new.
    prompt: str | None = None  # initial_prompt: vocabulary or style to condition the first window on
    hotwords: str | None = None  # words to favour throughout
    temperature: float | None = None  # 0..1; None: faster-whisper's fallback schedule from 0
    batch_size: int | None = None  # chunks decoded at once; 1: sequential; None: the transcriber's default
    # Diarization: "off", "auto" (the count estimated, within min/max when given) or an exact count.
    speakers: Speakers = "off"
    min_speakers: int | None = None
    max_speakers: int | None = None
    priority: Priority = "normal"  # within the tenant: high before normal before low


class Word(msgspec.Struct, array_like=True):
    start: float
    end: float
    word: str
    probability: float


class Segment(msgspec.Struct, kw_only=True, omit_defaults=True):
    index: int
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: list[Word] | None = None


# --- Recording aggregate -------------------------------------------------


class RecordingUploaded(Event):
    """v2: `filename` may be sealed (contracts/sealing.py)."""

    SCHEMA_VERSION: ClassVar[int] = 2
    filename: str
    content_type: str
    size_bytes: int
    blob_key: str
    blob_digest: str


class TranscriptionRequested(Event):
    """v2: `options.prompt` and `options.hotwords` may be sealed (contracts/sealing.py)."""

    SCHEMA_VERSION: ClassVar[int] = 2
    job_id: str
    options: TranscriptionOptions


class TranscriptionStarted(Event):
    job_id: str
    attempt: int
    worker: str
    model: str


class TranscriptionProgressed(Event):
    job_id: str
    stage: Stage
    progress: float
    processed_s: float
    eta_s: float | None = None


class SegmentsTranscribed(Event):
    """v2: `segments` may be sealed (contracts/sealing.py)."""

    SCHEMA_VERSION: ClassVar[int] = 2
    job_id: str
    segments: list[Segment]
    speech_final: bool = False  # live: the last segment ends the speaker's turn (silence followed it)


class TranscriptionCompleted(Event):
    job_id: str
    language: str
    duration_s: float
    segment_count: int
    processing_s: float
    language_probability: float | None = None  # the detector's confidence in `language`; None before it was kept


class TranscriptionAttemptFailed(Event):
    job_id: str
    attempt: int
    error_code: str
    message: str
    retry_at: str | None = None


class TranscriptionFailed(Event):
    job_id: str
    error_code: str
    message: str


class TranscriptionCancelRequested(Event):
    job_id: str


class TranscriptionCancelled(Event):
    job_id: str


class RecordingDeleted(Event):
    pass


# --- Insights: post-processing of a completed job; `run_id` tells re-runs apart ---


class InsightsRequested(Event):
    job_id: str
    run_id: str
    kinds: list[InsightKind]


class InsightStarted(Event):
    job_id: str
    run_id: str
    kind: InsightKind


class InsightReady(Event):
    """v2: `payload` may be sealed (contracts/sealing.py)."""

    SCHEMA_VERSION: ClassVar[int] = 2
    job_id: str
    run_id: str
    kind: InsightKind
    engine: str  # which engine produced it: "builtin" or "llm:<model>"
    payload: InsightPayload
    processing_s: float


class InsightFailed(Event):
    job_id: str
    run_id: str
    kind: InsightKind
    error_code: str
    message: str


class InsightsCompleted(Event):
    job_id: str
    run_id: str
    ready: list[InsightKind]
    failed: list[InsightKind]


# --- API key aggregate ---------------------------------------------------


KeyScope = Literal["admin", "member", "read"]


class ApiKeyIssued(Event):
    """v2: `name` became `label` (what the key is for). v3: a scope and an optional expiry.

    Keys issued before v3 read as `member` keys, but the embedded stack's dev key (its label says so) reads
    as `admin`: it was the only key of a local stack, so it keeps managing keys and webhooks.
    """

    SCHEMA_VERSION: ClassVar[int] = 3
    key_hash: str
    prefix: str
    label: str
    scope: KeyScope = "member"
    expires_at: datetime | None = None


def api_key_issued_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in data.items() if k != "name"}, "label": data.get("name", "")}


DEV_KEY_LABEL = "dev key"  # the label of the key the embedded stack issues itself


def api_key_issued_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "scope": "admin" if data.get("label") == DEV_KEY_LABEL else "member"}


class ApiKeyRevoked(Event):
    """From `effective_at` on the key is refused; a rotation revokes the old key at the end of its overlap."""

    effective_at: datetime
    reason: Literal["revoked", "rotated"] = "revoked"
    replaced_by: str | None = None  # the new key's id, for a rotation


class ApiKeyUsed(Event):
    """The key authenticated a request; each gateway appends this at most once per key per minute."""

    at: datetime


# (type, from_version) -> the pure function that lifts that version's data to the next one.
EVENT_UPCASTERS = {
    ("ApiKeyIssued", 1): api_key_issued_v1_to_v2,
    ("ApiKeyIssued", 2): api_key_issued_v2_to_v3,
    ("RecordingUploaded", 1): clear_v1_to_v2,
    ("TranscriptionRequested", 1): clear_v1_to_v2,
    ("SegmentsTranscribed", 1): clear_v1_to_v2,
    ("InsightReady", 1): clear_v1_to_v2,
}

# --- Live sessions: on the Recording aggregate, so an ended session is a recording like an upload ---
# Finals are SegmentsTranscribed of the session's job; interims are transient and never in the log.

LiveEncoding = Literal["pcm_s16le", "f32le"]
LiveEndReason = Literal["stopped", "inactivity", "max_duration", "failed"]  # failed: with a TranscriptionFailed


class LiveSessionStats(msgspec.Struct, kw_only=True):
    """Computed from the finals only."""

    final_count: int
    mean_confidence: float
    speech_s: float
    words_per_minute: float


class LiveSessionStarted(Event):
    job_id: str
    sample_rate: int
    encoding: LiveEncoding
    options: TranscriptionOptions
    worker: str
    model: str


class LiveSessionTakenOver(Event):
    """Another worker took the lease after the holder stopped renewing it; it resumes after the last final."""

    job_id: str
    worker: str
    resumed_from_s: float


class LiveSessionEnded(Event):
    job_id: str
    reason: LiveEndReason
    duration_s: float
    blob_key: str
    blob_digest: str
    size_bytes: int
    stats: LiveSessionStats


# --- Speakers: diarization of a job, its own stage; times and labels only, never text ---


class SpeakerTurn(msgspec.Struct, array_like=True):
    start: float
    end: float
    speaker: str  # S1, S2, ... in order of first appearance


class SpeakersDiarized(Event):
    """A job's speaker turns; the read model labels its segments and words from them. A re-run's turns
    (`run_id` set) replace the job's earlier ones, and the names given to the earlier labels are dropped."""

    job_id: str
    turns: list[SpeakerTurn]
    processing_s: float
    run_id: str | None = None


class DiarizationRequested(Event):
    """Diarize a completed job again, with its own options, without transcribing again."""

    job_id: str
    run_id: str
    options: TranscriptionOptions


class RecordingDescribed(Event):
    """A recording's name, tags and folder as a person set them (each whole; empty: none)."""

    name: str
    tags: list[str]
    folder: str


class DiarizationProgressed(Event):
    """How far a diarization re-run has come (0..1), about once a second while it runs."""

    job_id: str
    run_id: str
    progress: float


class SpeakersNamed(Event):
    """The whole mapping of a job's labels after a rename or merge: a label maps to a name, or to another label
    it was merged into (S3 -> S1 -> "Maria")."""

    job_id: str
    names: dict[str, str]


# --- Chunked jobs: a long recording split at silences, each chunk a unit of work any transcriber takes ---
# The chunks' words are stitched into the job's SegmentsTranscribed in order, so readers see a job as usual.


class ChunkSpan(msgspec.Struct, kw_only=True):
    index: int
    start_s: float
    end_s: float


class TranscriptionChunked(Event):
    """The job's plan: its chunks, cut at silences, covering [0, duration_s] without gaps."""

    job_id: str
    attempt: int
    duration_s: float
    chunks: list[ChunkSpan]
    planned_at: datetime | None = None  # the chunks' ETA runs from here (absent in plans made before it)


class TranscriptionChunkQueued(Event):
    """One chunk's unit of work, on the transcription-jobs consumer beside TranscriptionRequested."""

    job_id: str
    index: int
    start_s: float
    end_s: float
    priority: Priority = "normal"


class ChunkTranscribed(Event):
    """A chunk's segments, with word times (absolute in the recording) over its window with the overlap;
    `segments` may be sealed (contracts/sealing.py)."""

    job_id: str
    index: int
    segments: list[Segment]
    processing_s: float
    language: str = "en"
    language_probability: float | None = None


# --- Passages for asking: a completed transcript cut into passages sized for the embedding model, embedded once ---

PassageKind = Literal["turn", "digest"]  # a speaker turn or sentence group; the recording's one short digest


class Passage(msgspec.Struct, kw_only=True, omit_defaults=True):
    index: int
    kind: PassageKind
    start: float
    end: float
    text: str
    vector: bytes  # float32, little-endian, unit length, `dimensions` of them
    speaker: str | None = None


class PassagesEmbedded(Event):
    """One part of a job's passages and their embeddings, in order; `complete` on the last part. Sealed:
    `passages` (their text and vectors, contracts/sealing.py). A replay projects them without embedding again."""

    job_id: str
    model: str
    dimensions: int
    passages: list[Passage]
    complete: bool = True


# --- One union per aggregate of this module: every event type its stream holds, in the order they occur ---

RecordingEvent = (
    RecordingUploaded
    | TranscriptionRequested
    | TranscriptionStarted
    | TranscriptionProgressed
    | SegmentsTranscribed
    | SpeakersDiarized
    | TranscriptionCompleted
    | TranscriptionAttemptFailed
    | TranscriptionFailed
    | TranscriptionCancelRequested
    | TranscriptionCancelled
    | TranscriptionChunked
    | TranscriptionChunkQueued
    | ChunkTranscribed
    | LiveSessionStarted
    | LiveSessionTakenOver
    | LiveSessionEnded
    | DiarizationRequested
    | DiarizationProgressed
    | SpeakersNamed
    | InsightsRequested
    | InsightStarted
    | InsightReady
    | InsightFailed
    | InsightsCompleted
    | PassagesEmbedded
    | RecordingDescribed
    | RecordingDeleted
)
ApiKeyEvent = ApiKeyIssued | ApiKeyRevoked | ApiKeyUsed


def event_types(*unions: Any) -> dict[str, type[Event]]:
    """Name -> class of every event type in the aggregates' unions (a union of one is the class itself)."""
    return {cls.__name__: cls for union in unions for cls in (get_args(union) or (union,))}


EVENT_TYPES: dict[str, type[Event]] = event_types(RecordingEvent, ApiKeyEvent)
