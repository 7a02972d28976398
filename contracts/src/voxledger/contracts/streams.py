"""Stream, consumer and bucket definitions, as plain data; runtime turns them into JetStream config."""

from typing import Literal

import msgspec

from voxledger.contracts import subjects
from voxledger.contracts.events import (
    InsightsRequested,
    TranscriptionChunkQueued,
    TranscriptionCompleted,
    TranscriptionRequested,
)


class StreamSpec(msgspec.Struct, frozen=True):
    name: str
    subjects: list[str]
    retention: Literal["limits", "workqueue"] = "limits"
    max_age_s: float = 0  # 0 keeps forever
    duplicate_window_s: float = 120


class ConsumerSpec(msgspec.Struct, frozen=True):
    durable: str
    stream: str
    filter_subject: str
    ack_wait_s: float = 30
    max_deliver: int = 5
    max_ack_pending: int = 1000
    filter_subjects: tuple[str, ...] = ()  # several filters at once; then `filter_subject` is unused


EVENTS = StreamSpec(name="EVENTS", subjects=[f"{subjects.EVENTS_PREFIX}.>"])
COMMANDS = StreamSpec(name="COMMANDS", subjects=[f"{subjects.COMMANDS_PREFIX}.>"], max_age_s=7 * 24 * 3600)
# Live audio as the client sent it, one subject per session: a worker taking over replays it.
LIVE_AUDIO = StreamSpec(name="LIVE_AUDIO", subjects=[f"{subjects.LIVE_AUDIO_PREFIX}.>"], max_age_s=7 * 24 * 3600)
# Webhook deliveries until each settles (acked: removed); see WEBHOOK_DELIVERIES.
WEBHOOKS = StreamSpec(
    name="WEBHOOKS", subjects=[f"{subjects.WEBHOOK_WORK_PREFIX}.>"], retention="workqueue", duplicate_window_s=600
)
# Transcription work the dispatcher hands out one at a time as workers free up (kept empty: see
# transcriber dispatch/); a worker's ack removes it.
WORK = StreamSpec(name="WORK", subjects=[f"{subjects.WORK_TRANSCRIBE_PREFIX}.>"], retention="workqueue")
STREAMS = (EVENTS, COMMANDS, LIVE_AUDIO, WEBHOOKS, WORK)

RECORDING_COMMANDS = ConsumerSpec(
    durable="recording-commands",
    stream=COMMANDS.name,
    filter_subject=subjects.command_subject(subjects.RECORDING, "*"),
)
# Jobs, and the chunks a long recording's job is split into: both are units of work any transcriber takes.
TRANSCRIPTION_JOBS = ConsumerSpec(
    durable="transcription-jobs",
    stream=EVENTS.name,
    filter_subject="",
    filter_subjects=(
        subjects.event_type_filter(subjects.RECORDING, TranscriptionRequested.__name__),
        subjects.event_type_filter(subjects.RECORDING, TranscriptionChunkQueued.__name__),
    ),
    # Read only by the active dispatcher, which holds every queued job unacked (heartbeated) until a worker is
    # free; its deliveries count dispatcher failovers, not attempts (those are counted on TRANSCRIPTION_WORK).
    max_deliver=-1,
    max_ack_pending=100_000,
)
# The workers' queue: what the dispatcher dispatched (transcriber dispatch/), taken when a slot is free.
TRANSCRIPTION_WORK = ConsumerSpec(
    durable="transcription-work",
    stream=WORK.name,
    filter_subject=f"{subjects.WORK_TRANSCRIBE_PREFIX}.>",
    max_deliver=4,
)
# Post-processing starts when a transcription completes, and again when a client asks for a re-run.
INSIGHTS_ON_COMPLETION = ConsumerSpec(
    durable="insights-on-completion",
    stream=EVENTS.name,
    filter_subject=subjects.event_type_filter(subjects.RECORDING, TranscriptionCompleted.__name__),
)
INSIGHTS_ON_REQUEST = ConsumerSpec(
    durable="insights-on-request",
    stream=EVENTS.name,
    filter_subject=subjects.event_type_filter(subjects.RECORDING, InsightsRequested.__name__),
)
# Passages for asking are embedded once per completed transcript (postproc's embedding worker).
EMBEDDINGS_ON_COMPLETION = ConsumerSpec(
    durable="embeddings-on-completion",
    stream=EVENTS.name,
    filter_subject=subjects.event_type_filter(subjects.RECORDING, TranscriptionCompleted.__name__),
)
# Webhooks: endpoint commands; the events a tenant can subscribe to, fanned out into deliveries (one at a
# time, so deliveries are queued in log order); and the deliveries themselves, until each settles.
WEBHOOK_SOURCE_EVENTS = (
    "RecordingUploaded",
    "TranscriptionCompleted",
    "TranscriptionFailed",
    "TranscriptionCancelled",
    "InsightsCompleted",
    "LiveSessionEnded",
)
WEBHOOK_COMMANDS = ConsumerSpec(
    durable="webhook-commands",
    stream=COMMANDS.name,
    filter_subject=subjects.command_subject(subjects.WEBHOOK, "*"),
)
WEBHOOK_FANOUT = ConsumerSpec(
    durable="webhook-fanout",
    stream=EVENTS.name,
    filter_subject="",
    filter_subjects=(
        *(subjects.event_type_filter(subjects.RECORDING, name) for name in WEBHOOK_SOURCE_EVENTS),
        subjects.event_type_filter(subjects.WEBHOOK, "WebhookTestRequested"),
        subjects.event_type_filter(subjects.WEBHOOK, "WebhookRedeliveryRequested"),
    ),
    max_deliver=-1,  # a fan-out that cannot publish waits for the broker; it never skips an event
    max_ack_pending=1,  # strictly in log order, whichever process takes the next one
)
# Retries are bounded in time (VOXLEDGER_WEBHOOK_RETRY_FOR_S), not in deliveries: a delivery waiting for
# an earlier one of its recording is put back without an attempt, and that counts as a delivery too.
WEBHOOK_DELIVERIES = ConsumerSpec(
    durable="webhook-deliveries",
    stream=WEBHOOKS.name,
    filter_subject=f"{subjects.WEBHOOK_WORK_PREFIX}.>",
    max_deliver=-1,
    ack_wait_s=60,
)

# Key commands from the gateways, handled by the key command handler (voxledger.keys, a process of its own).
KEY_COMMANDS = ConsumerSpec(
    durable="key-commands",
    stream=COMMANDS.name,
    filter_subject=subjects.command_subject(subjects.API_KEY, "*"),
)

# Tenant settings commands (retention), handled in the webhooks process (the tenant command handler).
TENANT_COMMANDS = ConsumerSpec(
    durable="tenant-commands",
    stream=COMMANDS.name,
    filter_subject=subjects.command_subject(subjects.TENANT, "*"),
)

# Diarization re-runs of completed jobs (POST /v1/recordings/{id}/diarization), in the transcriber.
DIARIZATION_RUNS = ConsumerSpec(
    durable="diarization-runs",
    stream=EVENTS.name,
    filter_subject=subjects.event_type_filter(subjects.RECORDING, "DiarizationRequested"),
    max_deliver=4,
)

CONSUMERS = (
    RECORDING_COMMANDS,
    TRANSCRIPTION_JOBS,
    INSIGHTS_ON_COMPLETION,
    INSIGHTS_ON_REQUEST,
    EMBEDDINGS_ON_COMPLETION,
    WEBHOOK_COMMANDS,
    WEBHOOK_FANOUT,
    WEBHOOK_DELIVERIES,
    KEY_COMMANDS,
    TENANT_COMMANDS,
    DIARIZATION_RUNS,
    TRANSCRIPTION_WORK,
)

AUDIO_BUCKET = "audio"
# Idempotency-Key reservations: which ids a client's key stands for, kept for a day.
IDEMPOTENCY_BUCKET = "idempotency"
IDEMPOTENCY_TTL_S = 24 * 3600
# Live sessions waiting for or held by a worker. A worker holds a session through a lease
# (in LEASES_BUCKET) renewed well inside LIVE_LEASE_TTL_S; if it stops renewing, another takes over.
LIVE_SESSIONS_BUCKET = "live_sessions"
LIVE_LEASE_TTL_S = 4.0
# Each registration carries this per-key TTL and its holder refreshes it: a session nobody holds expires.
LIVE_SESSION_TTL_S = 60.0

# Leases: which worker holds a job, a live session or a projection. Keys expire by their own TTL.
LEASES_BUCKET = "leases"
# A standby projector takes over within this (plus its poll interval) when the active one dies.
PROJECTION_LEASE_TTL_S = 5.0
# The transcription dispatcher: one active across all transcribers; a standby takes over within this.
DISPATCH_LEASE_TTL_S = 5.0

# Each recording's data key, wrapped by the master key (runtime/crypto.py); key = recording id, history 2 (a
# re-wrap erases the revision it replaced). Deleting a recording erases its key from the disk (runtime/erasure.py):
# what was sealed with it can never be read again.
DATA_KEYS_BUCKET = "data_keys"

# The read-model schema version the services expect; the projector's migrations reach it.
READ_MODEL_SCHEMA_VERSION = 25
