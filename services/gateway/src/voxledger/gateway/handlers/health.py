"""Liveness, readiness and Prometheus metrics."""

import hmac

import structlog
from litestar import Request, Response, get
from litestar.di import NamedDependency
from nats.aio.client import Client as Nats
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from voxledger.contracts.statuses import JOB_STATUSES
from voxledger.contracts.streams import READ_MODEL_SCHEMA_VERSION
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.live import live_session_counts
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.http.auth import bearer_key
from voxledger.gateway.http.errors import ApiError
from voxledger.gateway.http.metrics import GatewayMetrics
from voxledger.gateway.settings import GatewaySettings

log = structlog.get_logger(__name__)


@get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", summary="Readiness: NATS and Postgres reachable, schema current, projections current and whole")
async def readyz(
    nc: NamedDependency[Nats],
    readmodels: NamedDependency[ReadModels],
    bus: NamedDependency[Bus],
    settings: NamedDependency[GatewaySettings],
) -> dict[str, object]:
    if not nc.is_connected:
        raise ApiError(503, "nats_unavailable", "not connected to NATS")
    try:
        version = await readmodels.ops.schema_version()
    except Exception as err:
        raise ApiError(503, "database_unavailable", f"Postgres is not reachable: {type(err).__name__}") from None
    if version < READ_MODEL_SCHEMA_VERSION:  # the versions are logged, not shown to an anonymous caller
        log.warning("readyz.schema_outdated", schema_version=version, needed=READ_MODEL_SCHEMA_VERSION)
        raise ApiError(503, "schema_outdated", "the read-model schema is older than this gateway needs")
    try:
        head, projections = await bus.events_head(), await readmodels.ops.projection_health()
    except Exception as err:
        raise ApiError(503, "projection_unknown", f"projection state unavailable: {type(err).__name__}") from None
    max_lag = settings.ready_max_lag_events
    for p in projections:
        if p.quarantined:
            detail = f"projection {p.name} holds {p.quarantined} quarantined event(s): voxledger projections quarantine"
            raise ApiError(503, "projection_quarantined", detail)
        if head - p.last_seq > max_lag:
            detail = f"projection {p.name} is {head - p.last_seq} events behind the log (limit {max_lag})"
            raise ApiError(503, "projection_lagging", detail)
    return {"status": "ready"}


def check_metrics_token(request: Request, metrics_token: str) -> None:
    """/metrics is for the operator's scraper only: `Authorization: Bearer <metrics token>`."""
    sent = bearer_key(request.headers.get("authorization", "")) or ""
    if not hmac.compare_digest(sent.encode(), metrics_token.encode()):
        headers = {"WWW-Authenticate": 'Bearer realm="voxledger-metrics"'}
        raise ApiError(401, "invalid_metrics_token", "send `Authorization: Bearer <metrics token>`", headers)


@get("/metrics", summary="Prometheus metrics (needs the metrics token)", media_type=CONTENT_TYPE_LATEST)
async def metrics(
    request: Request,
    metrics_token: NamedDependency[str],
    metrics: NamedDependency[GatewayMetrics],
    readmodels: NamedDependency[ReadModels],
    bus: NamedDependency[Bus],
) -> Response:
    check_metrics_token(request, metrics_token)
    try:
        metrics.observe_jobs(await readmodels.ops.job_counts(JOB_STATUSES))
        metrics.observe_consumers(await bus.consumer_backlog())
        metrics.observe_projections(await bus.events_head(), await readmodels.ops.projections())
        metrics.observe_live_sessions(await live_session_counts(bus.js))
    except Exception as err:  # the counters kept in memory are still worth serving
        log.warning("metrics.sources_unavailable", error=str(err))
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
