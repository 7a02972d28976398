"""Subject names. Events: vl.evt.<aggregate>.<id>.<type>; commands: vl.cmd.<target>.<name>."""

EVENTS_PREFIX = "vl.evt"
COMMANDS_PREFIX = "vl.cmd"

RECORDING = "rec"
API_KEY = "key"
WEBHOOK = "wh"  # a webhook endpoint's management events
WEBHOOK_DELIVERY = "whd"  # one delivery's attempts
TENANT = "tenant"  # a tenant's settings (retention); its id is the tenant's name


def event_subject(aggregate: str, aggregate_id: str, event_type: str) -> str:
    return f"{EVENTS_PREFIX}.{aggregate}.{aggregate_id}.{event_type}"


def aggregate_filter(aggregate: str, aggregate_id: str) -> str:
    """Every event of one aggregate instance; also the optimistic-concurrency scope."""
    return f"{EVENTS_PREFIX}.{aggregate}.{aggregate_id}.>"


def event_type_filter(aggregate: str, event_type: str) -> str:
    return f"{EVENTS_PREFIX}.{aggregate}.*.{event_type}"


def command_subject(target: str, name: str) -> str:
    return f"{COMMANDS_PREFIX}.{target}.{name}"


# Live sessions: client audio (JetStream, durable) and interim segments (core NATS, transient).
LIVE_AUDIO_PREFIX = "vl.live.audio"
LIVE_INTERIM_PREFIX = "vl.live.interim"


def live_audio_subject(session_id: str) -> str:
    return f"{LIVE_AUDIO_PREFIX}.{session_id}"


def live_interim_subject(session_id: str) -> str:
    return f"{LIVE_INTERIM_PREFIX}.{session_id}"


# Webhook deliveries waiting to settle, one subject per endpoint and recording: the order they go in.
WEBHOOK_WORK_PREFIX = "vl.whq"


def webhook_work_subject(endpoint_id: str, resource_id: str) -> str:
    return f"{WEBHOOK_WORK_PREFIX}.{endpoint_id}.{resource_id}"


# Transcription work dispatched fairly (transcriber dispatch/): one subject per dispatched event type.
WORK_TRANSCRIBE_PREFIX = "vl.work.transcribe"


def work_transcribe_subject(event_type: str) -> str:
    return f"{WORK_TRANSCRIBE_PREFIX}.{event_type}"
