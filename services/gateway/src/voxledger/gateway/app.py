"""Wiring: the Litestar app, its connections, error mapping, tracing; `main` serves it with uvicorn."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
import uvicorn
from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import Redirect
from litestar.types import ASGIApp, Receive, Scope, Send
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.auth import KeyResolver, authenticate
from voxledger.gateway.consistency import consistency_headers, wait_for_projection
from voxledger.gateway.domain.problems import ApiError, problem
from voxledger.gateway.handlers import deletion, health, insights, jobs, live, live_sessions, recordings, search
from voxledger.gateway.metrics import GatewayMetrics
from voxledger.gateway.openapi_document import complete_document
from voxledger.gateway.outages import dependency_outage
from voxledger.gateway.settings import GatewaySettings
from voxledger.runtime.db import create_pool
from voxledger.runtime.jetstream import connect
from voxledger.runtime.logging import configure_logging
from voxledger.runtime.settings import load_or_exit
from voxledger.runtime.telemetry import context_from_headers, setup_tracing

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"
CODES_BY_STATUS = {
    400: "invalid_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "file_too_large",
    429: "too_many_requests",
}


def _problem_response(request: Request, status: int, code: str, detail: str | None, headers=None) -> Response:
    request.app.state.metrics.problems.labels(code).inc()
    body = problem(status, code, detail, str(request.url.path))
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def on_api_error(request: Request, exc: ApiError) -> Response:
    return _problem_response(request, exc.status, exc.code, exc.detail, exc.headers)


def on_http_exception(request: Request, exc: HTTPException) -> Response:
    detail = exc.detail
    if isinstance(exc, ValidationException) and exc.extra:
        detail = "; ".join(f"{e.get('key', '')}: {e.get('message', '')}" for e in exc.extra if isinstance(e, dict))
    code = CODES_BY_STATUS.get(exc.status_code, "http_error")
    return _problem_response(request, exc.status_code, code, detail, exc.headers)


def on_unexpected(request: Request, exc: Exception) -> Response:
    if (outage := dependency_outage(exc)) is not None:
        log.warning("http.dependency_unavailable", path=str(request.url.path), code=outage.code, error=repr(exc))
        return on_api_error(request, outage)
    log.exception("http.unhandled_error", path=str(request.url.path))
    return _problem_response(request, 500, "internal_error", "an unexpected error occurred; it has been logged")


def tracing(app: ASGIApp) -> ASGIApp:
    """One server span per request, continuing the caller's `traceparent` if it sent one."""
    tracer = trace.get_tracer("voxledger.gateway")

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        name = f"{scope['method']} {scope['path']}"
        with tracer.start_as_current_span(name, context=context_from_headers(headers), kind=SpanKind.SERVER):
            await app(scope, receive, send)

    return middleware


@get("/docs", include_in_schema=False)
async def docs() -> Redirect:
    return Redirect("/schema/swagger")


def create_app(settings: GatewaySettings) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = await create_pool(settings.database_url, max_size=20)
        nc = await connect(settings.nats_url, "gateway")
        readmodels = ReadModels(pool)
        app.state.update(
            nc=nc,
            bus=Bus(nc.jetstream()),
            readmodels=readmodels,
            key_resolver=KeyResolver(readmodels, settings.auth_cache_s),
        )
        log.info("gateway.ready", url=f"http://{settings.http_host}:{settings.http_port}")
        try:
            yield
        finally:
            await nc.drain()
            await pool.close()

    return Litestar(
        route_handlers=[
            recordings.upload_recording,
            recordings.list_recordings,
            recordings.get_recording,
            recordings.request_transcription,
            recordings.get_transcript,
            recordings.recording_events,
            insights.get_insights,
            insights.request_insights,
            deletion.delete_recording,
            search.search_transcripts,
            jobs.list_jobs,
            jobs.get_job,
            jobs.cancel_job,
            jobs.get_queue,
            live.live_socket,
            live_sessions.list_live_sessions,
            live_sessions.get_live_session,
            health.healthz,
            health.readyz,
            health.metrics,
            docs,
        ],
        dependencies={"tenant": Provide(authenticate)},
        exception_handlers={ApiError: on_api_error, HTTPException: on_http_exception, Exception: on_unexpected},
        middleware=[tracing, consistency_headers],
        before_request=wait_for_projection,
        logging_config=None,  # structlog is configured by main()
        lifespan=[lifespan],
        on_startup=[complete_document],  # links and problem responses, before the document is first served
        state=State({"settings": settings, "metrics": GatewayMetrics()}),
        request_max_body_size=None,  # uploads are streamed and capped by the multipart parser
        openapi_config=OpenAPIConfig(
            title="voxledger",
            version="0.1.0",
            description="Self-hosted speech transcription: upload, follow progress, read transcripts.",
            security=[{"BearerAuth": []}],
            components=Components(
                security_schemes={"BearerAuth": SecurityScheme(type="http", scheme="bearer", description="API key")}
            ),
        ),
    )


def main() -> None:
    settings = load_or_exit(GatewaySettings)
    configure_logging("gateway", settings.log_format, settings.log_level)
    setup_tracing("gateway")
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
