from prometheus_client import Counter, Gauge


class GatewayMetrics:
    def __init__(self) -> None:
        self.sse_clients = Gauge("voxledger_sse_clients", "Open server-sent-event streams")
        self.uploads = Counter("voxledger_uploads_total", "Recordings accepted for upload")
        self.problems = Counter("voxledger_http_problems_total", "Error responses by code", ["code"])
        # Read at scrape time from the projector's checkpoints and the stream head.
        self.projector_lag = Gauge("voxledger_projector_lag_events", "Events behind the stream head", ["projection"])
        self.projector_skipped = Gauge(
            "voxledger_projector_skipped_events", "Events skipped as an unknown type or newer version", ["projection"]
        )

    def observe_projections(self, head: int, checkpoints: list) -> None:
        for row in checkpoints:
            self.projector_lag.labels(row["name"]).set(max(head - row["last_seq"], 0))
            self.projector_skipped.labels(row["name"]).set(row["skipped"])
