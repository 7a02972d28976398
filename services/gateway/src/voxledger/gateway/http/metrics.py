"""The gateway's Prometheus metrics, and the token that /metrics asks for."""

import contextlib
import os
import secrets
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, PlatformCollector, ProcessCollector

from voxledger.contracts.statuses import JOB_STATUSES
from voxledger.gateway.settings import GatewaySettings


class GatewayMetrics:
    def __init__(self) -> None:
        # A registry of its own: an app made twice in one process (tests, tools) never meets its own series.
        self.registry = r = CollectorRegistry()
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        self.sse_clients = Gauge("voxledger_sse_clients", "Open server-sent-event streams", registry=r)
        self.uploads = Counter("voxledger_uploads_total", "Recordings accepted for upload", registry=r)
        self.uploads_in_flight = Gauge(
            "voxledger_uploads_in_flight", "Upload bodies still arriving, all tenants (this gateway)", registry=r
        )
        self.problems = Counter("voxledger_http_problems_total", "Error responses by code", ["code"], registry=r)
        # Read at scrape time: from the read models and from JetStream's consumer state.
        self.jobs = Gauge("voxledger_jobs", "Jobs by status, all tenants", ["status"], registry=r)
        self.consumer_pending = Gauge(
            "voxledger_consumer_pending_messages",
            "Messages not yet delivered per durable consumer",
            ["consumer"],
            registry=r,
        )
        self.consumer_in_flight = Gauge(
            "voxledger_consumer_ack_pending_messages",
            "Messages delivered but not yet acknowledged; for transcription-jobs, the queued jobs the dispatcher holds",
            ["consumer"],
            registry=r,
        )
        self.projector_lag = Gauge(
            "voxledger_projector_lag_events", "Events behind the stream head", ["projection"], registry=r
        )
        self.projector_skipped = Gauge(
            "voxledger_projector_skipped_events",
            "Events skipped as an unknown type or newer version",
            ["projection"],
            registry=r,
        )
        self.projector_quarantined = Gauge(
            "voxledger_projector_quarantined_events",
            "Events held in quarantine (`voxledger projections quarantine`)",
            ["projection"],
            registry=r,
        )
        self.live_sessions = Gauge(
            "voxledger_live_sessions",
            "Open live sessions, all tenants: active (held by a worker) or waiting for a worker",
            ["state"],
            registry=r,
        )

    def observe_jobs(self, counts: dict[str, int]) -> None:
        for status in JOB_STATUSES:
            self.jobs.labels(status).set(counts.get(status, 0))

    def observe_consumers(self, pending: dict[str, tuple[int, int]]) -> None:
        for consumer, (waiting, in_flight) in pending.items():
            self.consumer_pending.labels(consumer).set(waiting)
            self.consumer_in_flight.labels(consumer).set(in_flight)

    def observe_live_sessions(self, counts: dict[str, int]) -> None:
        for state, count in counts.items():
            self.live_sessions.labels(state).set(count)

    def observe_projections(self, head: int, checkpoints: list) -> None:
        for row in checkpoints:
            self.projector_lag.labels(row.name).set(max(head - row.last_seq, 0))
            self.projector_skipped.labels(row.name).set(row.skipped)
            self.projector_quarantined.labels(row.name).set(row.quarantined)


def metrics_token(settings: GatewaySettings) -> str:
    """The configured token, or one generated once in the data directory (shared by gateways on one host)."""
    if settings.metrics_token:
        return settings.metrics_token
    path = Path(settings.data_dir) / "metrics-token"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".metrics-token.{os.getpid()}")
        tmp.write_text(secrets.token_urlsafe(32) + "\n")
        tmp.chmod(0o600)
        with contextlib.suppress(FileExistsError):  # another gateway won the race: use its token
            os.link(tmp, path)  # atomic: a reader never sees a half-written token
        tmp.unlink()
    return path.read_text().strip()
