"""Liveness, readiness and Prometheus metrics."""

import structlog
from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from voxledger.contracts.streams import READ_MODEL_SCHEMA_VERSION
from voxledger.gateway.domain.problems import ApiError

log = structlog.get_logger(__name__)


@get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", summary="Readiness: NATS and Postgres reachable, schema current")
async def readyz(request: Request) -> dict[str, object]:
    state = request.app.state
    if not state.nc.is_connected:
        raise ApiError(503, "nats_unavailable", "not connected to NATS")
    try:
        version = await state.readmodels.schema_version()
    except Exception as err:
        raise ApiError(503, "database_unavailable", f"Postgres is not reachable: {type(err).__name__}") from None
    if version < READ_MODEL_SCHEMA_VERSION:
        raise ApiError(503, "schema_outdated", f"schema version {version}, need {READ_MODEL_SCHEMA_VERSION}")
    return {"status": "ready", "schema_version": version}


@get("/metrics", summary="Prometheus metrics", media_type=CONTENT_TYPE_LATEST)
async def metrics(request: Request) -> Response:
    state = request.app.state
    try:
        state.metrics.observe_jobs(await state.readmodels.job_counts())
        state.metrics.observe_consumers(await state.bus.consumer_backlog())
        state.metrics.observe_projections(await state.bus.events_head(), await state.readmodels.projections())
    except Exception as err:  # the counters kept in memory are still worth serving
        log.warning("metrics.sources_unavailable", error=str(err))
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
