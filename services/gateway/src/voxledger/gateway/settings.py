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
