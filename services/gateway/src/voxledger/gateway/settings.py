from voxledger.runtime.settings import CommonSettings


class GatewaySettings(CommonSettings, kw_only=True, frozen=True):
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    max_upload_mb: int = 2048
    upload_memory_mb: int = 8  # uploads larger than this spill to a temporary file
    sse_keepalive_s: float = 15.0
    auth_cache_s: float = 30.0
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
