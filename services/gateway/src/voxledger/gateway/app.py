"""Wiring: the Litestar app, its /v1 router, its connections and what handlers get injected; `main` serves it."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
import uvicorn
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import Redirect
from litestar.types import Message, Scope
from nats.aio.client import Client

from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.dependencies import PROVIDERS, dependencies
from voxledger.gateway.domain.audio_links import HKDF_INFO, AudioLinks
from voxledger.gateway.domain.models import ModelCatalog
from voxledger.gateway.handlers import openai, webapp
from voxledger.gateway.handlers.common import FreshReads
from voxledger.gateway.http.auth import AuthLimits, KeyResolver, auth_guard
from voxledger.gateway.http.body_timeout import body_timeout_guard
from voxledger.gateway.http.consistency import ProjectionNotifier, consistency_headers, wait_for_projection
from voxledger.gateway.http.errors import EXCEPTION_HANDLERS
from voxledger.gateway.http.header_deadline import with_header_deadline
from voxledger.gateway.http.metrics import GatewayMetrics, metrics_token
from voxledger.gateway.http.quotas import Quotas
from voxledger.gateway.http.request import GatewayRequest
from voxledger.gateway.http.tracing import tracing
from voxledger.gateway.openapi_document import complete_document
from voxledger.gateway.retention import RetentionScheduler
from voxledger.gateway.routes import LIVE_SOCKET, TAGS, health_router, v1_router
from voxledger.gateway.settings import GatewaySettings
from voxledger.runtime.broker import connect, nats_access
from voxledger.runtime.crypto import MasterKeys, master_key_path
from voxledger.runtime.db import create_pool
from voxledger.runtime.lifecycle import start_service
from voxledger.runtime.settings import served_models
from voxledger.runtime.vault import Vault, open_vault

log = structlog.get_logger(__name__)


@get("/docs", include_in_schema=False)
async def docs() -> Redirect:
    return Redirect("/schema/swagger")


def openapi_config() -> OpenAPIConfig:
    """The OpenAPI document's configuration, all in one place."""
    return OpenAPIConfig(
        title="voxledger",
        version="0.1.0",
        description="Self-hosted speech transcription: upload, follow progress, read transcripts.\n\n" + LIVE_SOCKET,
        tags=TAGS,
        security=[{"BearerAuth": []}],
        components=Components(
            security_schemes={"BearerAuth": SecurityScheme(type="http", scheme="bearer", description="API key")}
        ),
        render_plugins=[webapp.swagger_plugin()],  # Swagger UI's assets from this server: /docs works offline
    )


@dataclass(frozen=True)
class Services:
    """What the lifespan builds on the process's one NATS connection and its Postgres pool; each field is in the
    app's state under its name (PROVIDERS), except the connections and the vault, which only `close` uses."""

    pool: asyncpg.Pool
    nc: Client
    vault: Vault
    bus: Bus
    readmodels: ReadModels
    key_resolver: KeyResolver
    notifier: ProjectionNotifier
    quotas: Quotas
    fresh: FreshReads
    answers: openai.JobAnswers
    audio_links: AudioLinks

    def injected(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PROVIDERS if hasattr(self, name)}

    async def close(self) -> None:
        await self.notifier.stop()
        await self.key_resolver.stop()
        await self.vault.stop()
        await self.nc.drain()
        await self.pool.close()


async def bootstrap(settings: GatewaySettings, metrics: GatewayMetrics) -> Services:
    """Connects to Postgres and NATS, and starts the projection notifier and the key resolver."""
    pool = await create_pool(settings.database_url, max_size=20)
    nc = await connect(nats_access(settings), "gateway")
    readmodels = ReadModels(pool)
    notifier = ProjectionNotifier(settings.database_url, settings.consistency_poll_s)
    await notifier.start()
    vault = await open_vault(nc, settings)  # watches for destroyed keys from the start
    master = MasterKeys(master_key_path(settings))
    bus, quotas = Bus(nc.jetstream(), vault), Quotas(settings, readmodels)
    metrics.uploads_in_flight.set_function(quotas.uploads.total)
    key_resolver = KeyResolver(readmodels, settings.auth_cache_s, nc, bus)
    await key_resolver.start()  # revocations apply from the event stream, not when the cache expires
    return Services(
        pool=pool,
        nc=nc,
        vault=vault,
        bus=bus,
        readmodels=readmodels,
        key_resolver=key_resolver,
        notifier=notifier,
        quotas=quotas,
        fresh=FreshReads(readmodels, notifier, settings.fresh_id_wait_s),
        answers=openai.JobAnswers(settings, bus, readmodels, notifier, quotas, metrics),
        # Links to a recording's audio, signed with a key derived from the master key: any gateway verifies them
        audio_links=AudioLinks(lambda: master.derive(HKDF_INFO)),
    )


def _lifespan(settings: GatewaySettings):
    """Bootstrap, put what handlers get in the state, and run the retention scheduler while serving."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        services = await bootstrap(settings, app.state.metrics)
        app.state.update(services.injected())
        log.info("gateway.ready", url=f"http://{settings.http_host}:{settings.http_port}")
        stopping = asyncio.Event()
        retention = asyncio.create_task(RetentionScheduler(settings, services.bus, services.readmodels).run(stopping))
        try:
            yield
        finally:
            stopping.set()
            await retention
            await services.close()

    return lifespan


async def no_sniffing(message: Message, scope: Scope) -> None:
    """Every answer, errors and unknown routes included, is taken as the type it says (no MIME sniffing)."""
    if message["type"] == "http.response.start":
        message["headers"] = [*message.get("headers", ()), (b"x-content-type-options", b"nosniff")]


def create_app(settings: GatewaySettings) -> Litestar:
    state = {
        "settings": settings,
        "metrics": GatewayMetrics(),
        "catalog": ModelCatalog(served_models(settings.served_models)),
        "metrics_token": metrics_token(settings),
        "auth_limits": AuthLimits(settings.auth_failures_per_minute, settings.auth_limit_exempt),
    }
    return Litestar(
        route_handlers=[
            v1_router(),
            health_router(),
            docs,
            webapp.index,
            *webapp.asset_routers(),
        ],
        dependencies=dependencies(),
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=GatewayRequest,
        # The key is checked first (auth_guard), then its scope (each route's guard), before a body is read or a
        # consistency wait starts.
        middleware=[tracing, consistency_headers, auth_guard, body_timeout_guard],
        before_request=wait_for_projection,
        before_send=[no_sniffing],
        logging_config=None,  # structlog is configured by main()
        lifespan=[_lifespan(settings)],
        on_startup=[complete_document],  # links and problem responses, before the document is first served
        state=State(state),
        request_max_body_size=settings.max_json_body_kb * 1024,  # the upload route streams, with its own cap
        openapi_config=openapi_config(),
    )


def main() -> None:
    settings = start_service("gateway", GatewaySettings)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        # Slow or greedy clients: bounded header bytes (h11, so the bound is known), idle keep-alive
        # connections closed, connections at once capped (then 503), WebSocket messages bounded.
        # A trickled body is timed out by body_timeout_guard, a trickled head by the protocol's own deadline.
        http=with_header_deadline(settings.header_timeout_s),
        h11_max_incomplete_event_size=settings.max_header_kb * 1024,
        timeout_keep_alive=settings.keep_alive_timeout_s,
        limit_concurrency=settings.max_connections,
        ws_max_size=settings.ws_max_message_kb * 1024,
        # The client's address (the failed-auth limit counts by it) from the trusted proxies' X-Forwarded-For
        # only; uvicorn's default would trust 127.0.0.1, so any local process could claim any address.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )
