"""The read-model contract: what the projector writes to Postgres and the gateway reads.

The names of the projection and its tables, the channel a checkpoint is announced on, the suffix of a
replay's shadow copies, and the rows the gateway reads, one Struct per query shape. The projector and the
gateway both import this module; neither imports the other's adapters. Ids (uuid columns) come as text,
jsonb as Python values (runtime/db.py sets those codecs on every connection).
"""

from datetime import datetime
from typing import Any

import msgspec

from voxledger.contracts.events import KeyScope, Word

PROJECTION = "read_models"
QUARANTINE_TABLE = "projection_quarantine"
# The tables of the read_models projection, in the order a rebuild creates them.
TABLES = (
    "api_keys",
    "recordings",
    "jobs",
    "segments",
    "passages",
    "insights",
    "command_effects",
    "deleted_recordings",
    "live_sessions",
    QUARANTINE_TABLE,
    "webhook_endpoints",
    "webhook_deliveries",
    "webhook_attempts",
    "tenant_usage",
)
# A replay rebuilds `<table><SHADOW_SUFFIX>` and checkpoints as `<projection><SHADOW_SUFFIX>`.
SHADOW_SUFFIX = "__shadow"
# Sent in each transaction that advances a live checkpoint, payload '<projection>:<checkpoint seq>'.
NOTIFY_CHANNEL = "voxledger_projection"


def is_live_checkpoint(name: str) -> bool:
    """A replay's shadow checkpoint says nothing about what readers see."""
    return not name.endswith(SHADOW_SUFFIX)


class ReadRow(msgspec.Struct, frozen=True, kw_only=True):
    """A row as a query selects it: one field per selected column, in the query's column names."""

    @classmethod
    def columns(cls) -> str:
        return ", ".join(cls.__struct_fields__)


class RecordingRow(ReadRow, frozen=True, kw_only=True):
    recording_id: str
    filename: str
    content_type: str
    size_bytes: int
    duration_s: float | None
    status: str
    latest_job_id: str | None
    created_at: datetime
    updated_at: datetime
    source: str
    read_model_error: dict[str, Any] | None
    name: str
    tags: list[str]
    folder: str


class JobRow(ReadRow, frozen=True, kw_only=True):
    job_id: str
    recording_id: str
    status: str
    stage: str
    progress: float
    processed_s: float
    eta_s: float | None
    attempt: int
    priority: str
    options: dict[str, Any]
    model: str | None
    worker: str | None
    language: str | None
    language_probability: float | None
    duration_s: float | None
    segment_count: int | None
    processing_s: float | None
    error_code: str | None
    error_message: str | None
    retry_at: datetime | None
    trace_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    speaker_turns: list[list[Any]] | None  # [start_s, end_s, label]
    speaker_names: dict[str, str] | None


class QueuedJobRow(ReadRow, frozen=True, kw_only=True):
    job_id: str
    tenant_id: str
    priority: str
    queued_seq: int | None


class SegmentRow(ReadRow, frozen=True, kw_only=True):
    idx: int
    start_s: float
    end_s: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: list[Word] | None


class SearchHitRow(ReadRow, frozen=True, kw_only=True):
    recording_id: str
    job_id: str
    idx: int
    start_s: float
    end_s: float
    filename: str
    rank: float
    snippet: str
    text: str


class PassageHitRow(ReadRow, frozen=True, kw_only=True):
    """A passage found by meaning or by its words; `similarity` is its embedding's cosine to the question's."""

    recording_id: str
    job_id: str
    idx: int
    start_s: float
    end_s: float
    speaker: str | None  # its label, or the name given to it now
    text: str
    filename: str
    similarity: float


class DigestHitRow(ReadRow, frozen=True, kw_only=True):
    """A recording whose digest is near the question."""

    recording_id: str
    similarity: float


class InsightRow(ReadRow, frozen=True, kw_only=True):
    kind: str
    run_id: str
    status: str
    engine: str | None
    payload: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    processing_s: float | None
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class LiveSessionRow(ReadRow, frozen=True, kw_only=True):
    session_id: str
    job_id: str
    status: str
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


class ProjectionRow(ReadRow, frozen=True, kw_only=True):
    """A projection's checkpoint and health, from projection_checkpoints and the quarantine."""

    name: str
    last_seq: int
    skipped: int
    quarantined: int


class ApiKeyRow(ReadRow, frozen=True, kw_only=True):
    key_id: str
    prefix: str
    name: str
    scope: KeyScope
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class WebhookEndpointRow(ReadRow, frozen=True, kw_only=True):
    endpoint_id: str
    url: str
    events: list[str]
    description: str
    status: str  # enabled, disabled, deleted
    disabled_reason: str | None
    previous_secret_valid_until: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookDeliveryRow(ReadRow, frozen=True, kw_only=True):
    delivery_id: str
    endpoint_id: str
    webhook_id: str
    event_type: str
    resource_id: str
    payload: dict[str, Any]
    status: str  # retrying, delivered, failed, dropped
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_latency_ms: float | None
    next_retry_at: datetime | None
    redelivery_of: str | None
    drop_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookAttemptRow(ReadRow, frozen=True, kw_only=True):
    delivery_id: str
    attempt: int
    outcome: str
    status_code: int | None
    error: str | None
    latency_ms: float | None
    response_excerpt: str
    next_retry_at: datetime | None
    attempted_at: datetime
