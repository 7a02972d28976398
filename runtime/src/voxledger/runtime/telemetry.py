"""OpenTelemetry: one trace per upload, carried across services in the `traceparent` header.

Spans are exported over OTLP/HTTP when the standard `OTEL_EXPORTER_OTLP_ENDPOINT`
(or `..._TRACES_ENDPOINT`) is set; the exporter reads the other OTEL_* variables itself.
"""

import os
from collections.abc import Mapping

from opentelemetry import context, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from voxledger.contracts.tracecontext import trace_id_of as trace_id_of  # the parser lives with the envelope

_propagator = TraceContextTextMapPropagator()


OTLP_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def setup_tracing(service: str) -> trace.Tracer:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        if any(os.environ.get(name) for name in OTLP_ENDPOINT_VARIABLES):
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)  # flushed at exit by the SDK
    return trace.get_tracer(f"voxledger.{service}")


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(traceparent: str | None) -> context.Context:
    return _propagator.extract({"traceparent": traceparent} if traceparent else {})


def context_from_headers(headers: Mapping[str, str] | None) -> context.Context:
    return _propagator.extract(dict(headers or {}))
