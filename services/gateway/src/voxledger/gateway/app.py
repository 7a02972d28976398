"""Wiring: the Litestar app, its connections, error mapping, tracing; `main` serves it with uvicorn."""

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
import uvicorn
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import Redirect
from litestar.types import ASGIApp, Receive, Scope, Send
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.domain.models import ModelCatalog
from voxledger.gateway.handlers import deletion, health, insights, jobs, live, live_sessions, models, recordings, search
from voxledger.gateway.http.auth import KeyResolver, auth_guard, authenticate
from voxledger.gateway.http.body_timeout import body_timeout_guard
from voxledger.gateway.http.consistency import ProjectionNotifier, consistency_headers, wait_for_projection
from voxledger.gateway.http.errors import EXCEPTION_HANDLERS
from voxledger.gateway.http.metrics import GatewayMetrics
from voxledger.gateway.http.quotas import Quotas
from voxledger.gateway.settings import GatewaySettings
from voxledger.runtime.broker import connect
from voxledger.runtime.db import create_pool
from voxledger.runtime.logging import configure_logging
from voxledger.runtime.settings import load_or_exit, served_models
from voxledger.runtime.telemetry import context_from_headers, setup_tracing

log = structlog.get_logger(__name__)
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


ROUTES = [
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
    models.list_models,
    health.healthz,
    health.readyz,
    health.metrics,
    docs,
]


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="voxledger",
        version="0.1.0",
        description="Self-hosted speech transcription: upload, follow progress, read transcripts.",
        security=[{"BearerAuth": []}],
        components=Components(
            security_schemes={"BearerAuth": SecurityScheme(type="http", scheme="bearer", description="API key")}
        ),
    )


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


def create_app(settings: GatewaySettings) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = await create_pool(settings.database_url, max_size=20)
        nc = await connect(settings.nats_url, "gateway")
        readmodels = ReadModels(pool)
        notifier = ProjectionNotifier(settings.database_url, settings.consistency_poll_s)
        await notifier.start()
        app.state.update(
            nc=nc,
            bus=Bus(nc.jetstream()),
            readmodels=readmodels,
            key_resolver=KeyResolver(readmodels, settings.auth_cache_s),
            notifier=notifier,
            quotas=Quotas(settings, readmodels),
        )
        log.info("gateway.ready", url=f"http://{settings.http_host}:{settings.http_port}")
        try:
            yield
        finally:
            await notifier.stop()
            await nc.drain()
            await pool.close()

    return Litestar(
        route_handlers=ROUTES,
        dependencies={"tenant": Provide(authenticate, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        # The key is checked first (auth_guard), before a body is read or a consistency wait starts.
        middleware=[tracing, consistency_headers, auth_guard, body_timeout_guard],
        before_request=wait_for_projection,
        logging_config=None,  # structlog is configured by main()
        lifespan=[lifespan],
        state=State(
            {
                "settings": settings,
                "metrics": GatewayMetrics(),
                "models": ModelCatalog(served_models(settings.served_models)),
                "metrics_token": metrics_token(settings),
            }
        ),
        request_max_body_size=settings.max_json_body_kb * 1024,  # the upload route streams, with its own cap
        openapi_config=openapi_config(),
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
        # Slow or greedy clients: bounded header bytes (h11, so the bound is known), idle keep-alive
        # connections closed, connections at once capped (then 503), WebSocket messages bounded.
        # A trickled body is timed out by body_timeout_guard; uvicorn has no header-read timeout.
        http="h11",
        h11_max_incomplete_event_size=settings.max_header_kb * 1024,
        timeout_keep_alive=settings.keep_alive_timeout_s,
        limit_concurrency=settings.max_connections,
        ws_max_size=settings.ws_max_message_kb * 1024,
    )
