from prometheus_client import Counter, Gauge


class GatewayMetrics:
    def __init__(self) -> None:
        self.sse_clients = Gauge("voxledger_sse_clients", "Open server-sent-event streams")
        self.uploads = Counter("voxledger_uploads_total", "Recordings accepted for upload")
        self.problems = Counter("voxledger_http_problems_total", "Error responses by code", ["code"])
