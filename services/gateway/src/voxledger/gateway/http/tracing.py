"""One server span per request, continuing the caller's `traceparent` if it sent one."""

from typing import cast

from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from voxledger.runtime.telemetry import context_from_headers


def tracing(app: ASGIApp) -> ASGIApp:
    tracer = trace.get_tracer("voxledger.gateway")

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        http_scope = cast(HTTPScope, scope)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in http_scope["headers"]}
        name = f"{http_scope['method']} {http_scope['path']}"
        with tracer.start_as_current_span(name, context=context_from_headers(headers), kind=SpanKind.SERVER):
            await app(scope, receive, send)

    return middleware
