from typing import Annotated

import msgspec

from voxledger.runtime.settings import CommonSettings

# `tenant=number` entries, comma-separated (a tenant id is a NATS subject token: no dots, spaces or wildcards)
TENANT_LIMITS_PATTERN = r"^([^=,.*> \t]+=[0-9]+(\.[0-9]+)?(,[^=,.*> \t]+=[0-9]+(\.[0-9]+)?)*)?$"


class GatewaySettings(CommonSettings, kw_only=True, frozen=True):
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    max_upload_mb: int = 2048
    max_json_body_kb: int = 64  # every route but the upload: small JSON bodies (413 body_too_large)
    max_form_fields: int = 16  # multipart parts besides the file
    body_chunk_timeout_s: float = 30.0  # a request body that stalls longer ends with 408 body_timeout
    # uvicorn: header bytes, idle keep-alive, connections at once (beyond it 503), WebSocket message size
    max_header_kb: int = 16
    keep_alive_timeout_s: int = 5
    header_timeout_s: float = 10.0  # a request head (or a new connection's first request) must arrive this soon
    max_connections: int = 1000
    ws_max_message_kb: int = 1024
    # /metrics needs `Authorization: Bearer <token>`; unset: one is generated in <data_dir>/metrics-token
    metrics_token: str = ""
    # Per-tenant quotas (429 quota_exceeded with Retry-After); streams and sessions count per gateway process
    max_sse_streams_per_tenant: int = 100
    max_live_sessions_per_tenant: int = 20
    max_queued_jobs_per_tenant: int = 1000
    max_insight_runs_per_tenant: int = 20
    max_storage_mb_per_tenant: int = 100_000  # stored audio (uploads and ended live sessions)
    # The tenant's events in the log (EVENTS keeps them for good: a delete erases content, not the events), and
    # per-tenant exceptions to it, `tenant=MB` comma-separated (e.g. "acme=50000,trial=10")
    max_event_log_mb_per_tenant: float = 10_000
    tenant_event_log_mb: Annotated[str, msgspec.Meta(pattern=TENANT_LIMITS_PATTERN)] = ""
    max_uploads_in_flight_per_tenant: int = 8  # bodies still arriving, per gateway process
    max_webhooks_per_tenant: int = 10  # endpoints (each event is posted to every one of them)
    max_webhook_sends_per_minute: int = 10  # tests and redeliveries, together
    quota_retry_after_s: int = 5
    consistency_poll_s: float = 0.25  # fallback poll of the checkpoints, should a notification be lost
    live_auth_timeout_s: float = 5.0  # a socket without a Bearer header must send its auth message this soon
    upload_memory_mb: int = 8  # uploads larger than this spill to a temporary file
    # A whole request body must arrive within body_floor_s + its size at body_min_kib_per_s (408 body_too_slow)
    body_floor_s: float = 60.0
    body_min_kib_per_s: float = 16.0
    sse_keepalive_s: float = 15.0
    sse_max_resume_events: int = 10_000  # /v1/events: a Last-Event-ID further back restarts at the head (reset)
    auth_cache_s: float = 30.0  # revocations don't wait for it: they arrive on the event stream
    # Failed authentications (invalid keys or audio links) per client address per minute; beyond it, that
    # address's invalid credentials get 429 too_many_auth_failures (a valid key is always served).
    # Networks exempt from it (comma-separated CIDRs), e.g. a reverse proxy that limits by client address itself.
    auth_failures_per_minute: int = 20
    auth_limit_exempt: str = ""
    # Reverse proxies whose X-Forwarded-For (and -Proto) give the client's address (comma-separated addresses or
    # CIDRs, or *). Empty: none is trusted, and the address is the connection's peer.
    trusted_proxies: str = ""
    # How long a read of a just-created id waits for the projection to catch up before 404.
    fresh_id_wait_s: float = 2.0
    consistency_wait_s: float = 2.0  # the longest a `?min_seq=` read waits for the projections
    ready_max_lag_events: int = 10_000  # /readyz answers 503 when a projection is further behind the log
    # Live transcription (WS /v1/live)
    live_admission_timeout_s: float = 10.0  # how long a new session waits for a live worker with room
    live_inactivity_timeout_s: float = 30.0  # a connected client silent this long ends its session
    live_max_session_s: float = 4 * 3600.0  # audio beyond this ends the session (session_too_long)
    live_burst_s: float = 5.0  # audio ahead of real time allowed before reading pauses (backpressure)
    live_end_timeout_s: float = 120.0  # after stop, how long the socket waits for the session's end
    # OpenAI-compatible API (/v1/audio/*): how long a request waits for its job (then 504 job_still_running; the
    # job goes on and stays in the recordings list), and for the read models to show the ended job's transcript.
    openai_wait_s: float = 3600.0
    openai_result_wait_s: float = 30.0
    # Retention (PUT /v1/settings): how often the scheduler looks for recordings past it, and how long a
    # "day" of retention_days is (seconds; shorter only in tests).
    retention_check_s: float = 60.0
    retention_day_s: float = 86400.0
    # POST /v1/recordings/{id}/audio-link: how long the player's link to a recording's audio works (seconds)
    audio_link_ttl_s: Annotated[int, msgspec.Meta(ge=1, le=86400)] = 600
