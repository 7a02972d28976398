"""Stream, consumer and bucket definitions, as plain data; runtime turns them into JetStream config."""

from typing import Literal

import msgspec

from voxledger.contracts import subjects
from voxledger.contracts.events import InsightsRequested, TranscriptionCompleted, TranscriptionRequested


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


EVENTS = StreamSpec(name="EVENTS", subjects=[f"{subjects.EVENTS_PREFIX}.>"])
COMMANDS = StreamSpec(name="COMMANDS", subjects=[f"{subjects.COMMANDS_PREFIX}.>"], max_age_s=7 * 24 * 3600)
# Live audio as the client sent it, one subject per session: a worker taking over replays it.
LIVE_AUDIO = StreamSpec(name="LIVE_AUDIO", subjects=[f"{subjects.LIVE_AUDIO_PREFIX}.>"], max_age_s=7 * 24 * 3600)
STREAMS = (EVENTS, COMMANDS, LIVE_AUDIO)

RECORDING_COMMANDS = ConsumerSpec(
    durable="recording-commands",
    stream=COMMANDS.name,
    filter_subject=subjects.command_subject(subjects.RECORDING, "*"),
)
TRANSCRIPTION_JOBS = ConsumerSpec(
    durable="transcription-jobs",
    stream=EVENTS.name,
    filter_subject=subjects.event_type_filter(subjects.RECORDING, TranscriptionRequested.__name__),
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
CONSUMERS = (RECORDING_COMMANDS, TRANSCRIPTION_JOBS, INSIGHTS_ON_COMPLETION, INSIGHTS_ON_REQUEST)

AUDIO_BUCKET = "audio"
# Idempotency-Key reservations: which ids a client's key stands for, kept for a day.
IDEMPOTENCY_BUCKET = "idempotency"
IDEMPOTENCY_TTL_S = 24 * 3600
# Live sessions waiting for or held by a worker (no TTL), and the workers' leases on them (renewed well
# inside the TTL; a lease that is not renewed expires and another worker takes the session over).
LIVE_SESSIONS_BUCKET = "live_sessions"
LIVE_LEASES_BUCKET = "live_leases"
LIVE_LEASE_TTL_S = 4.0

# The read-model schema version the services expect; the projector's migrations reach it.
READ_MODEL_SCHEMA_VERSION = 10
