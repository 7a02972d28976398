"""What the generated OpenAPI document cannot know, completed once at startup.

Litestar documents what the handlers' signatures say. That misses:
- the errors: every one is an RFC 9457 `application/problem+json` with a stable `code` (the exception handlers
  in app.py make sure of it), yet Litestar documents its own `{status_code, detail, extra}` shape, or nothing;
- the event stream and the transcript renderings, which return a bare `Response` that Litestar calls JSON;
- the public operations (health, readiness, metrics), which inherit the global bearer requirement;
- the models this deployment serves, the one `model` a request may name;
- the links between operations (openapi_links).

Each is filled in where the document does not already say better, so that clients and the fuzz suite check
responses against what is really sent, and can build a valid upload.
"""

from dataclasses import replace
from typing import get_args

import msgspec
from litestar import Litestar
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    RequestBody,
    Schema,
)

from voxledger.gateway.domain.openai import OPENAI_MODELS
from voxledger.gateway.openapi_links import add_links, operations

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = Reference(ref="#/components/schemas/Problem")
_STRING = Schema(type=OpenAPIType.STRING)
# One server-sent event of a recording: `id` is the stream sequence, `data` the event as JSON.
SSE_EVENT = Schema(
    type=OpenAPIType.OBJECT,
    required=["id", "event", "data"],
    properties={
        "id": Schema(type=OpenAPIType.STRING, pattern="^[0-9]+$"),
        "event": _STRING,
        "data": Schema(
            type=OpenAPIType.STRING,
            content_media_type="application/json",
            content_schema=Schema(
                type=OpenAPIType.OBJECT,
                required=["seq", "type", "recording_id", "occurred_at", "data"],
                properties={
                    "seq": Schema(type=OpenAPIType.INTEGER, minimum=1),
                    "type": _STRING,
                    "recording_id": _STRING,
                    "occurred_at": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME),
                    "data": Schema(type=OpenAPIType.OBJECT),
                },
            ),
        ),
    },
)
# Responses a handler renders itself: what they really are.
RENDERED_MEDIA: dict[tuple[str, str], dict[str, Schema]] = {
    ("get", "/v1/recordings/{recording_id}/events"): {"text/event-stream": SSE_EVENT},
    ("get", "/v1/recordings/{recording_id}/transcript"): {
        "application/json": Schema(),
        "text/plain": _STRING,
        "application/x-subrip": _STRING,
        "text/vtt": _STRING,
    },
}
# OpenAI's stream: each event's `data` is one JSON object (`transcript.text.delta`, `transcript.text.done`, or,
# in an `error` event, OpenAI's error object).
OPENAI_SSE_EVENT = Schema(
    type=OpenAPIType.OBJECT,
    required=["data"],
    properties={
        "event": _STRING,
        "data": Schema(
            type=OpenAPIType.STRING,
            content_media_type="application/json",
            content_schema=Schema(type=OpenAPIType.OBJECT),
        ),
    },
)
# OpenAI's audio routes answer in the `response_format` asked for, or stream OpenAI's events.
_OPENAI_MEDIA = {
    "application/json": Schema(),
    "text/plain": _STRING,
    "application/x-subrip": _STRING,
    "text/vtt": _STRING,
    "text/event-stream": OPENAI_SSE_EVENT,
}
RENDERED_MEDIA[("post", "/v1/audio/transcriptions")] = _OPENAI_MEDIA
RENDERED_MEDIA[("post", "/v1/audio/translations")] = _OPENAI_MEDIA
# The tenant's stream: first `ready` (its `data` holds `seq`, the sequence it starts after), then events as above.
TENANT_SSE_EVENT = Schema(
    type=OpenAPIType.OBJECT,
    required=["id", "event", "data"],
    properties={
        "id": Schema(type=OpenAPIType.STRING, pattern="^[0-9]+$"),
        "event": _STRING,
        "data": Schema(
            type=OpenAPIType.STRING,
            content_media_type="application/json",
            content_schema=Schema(
                type=OpenAPIType.OBJECT,
                required=["seq"],
                properties={"seq": Schema(type=OpenAPIType.INTEGER, minimum=0)},
            ),
        ),
    },
)
RENDERED_MEDIA[("get", "/v1/events")] = {"text/event-stream": TENANT_SSE_EVENT}
RENDERED_MEDIA[("get", "/v1/recordings/{recording_id}/audio")] = {
    "audio/*": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
}

PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    title="Problem",
    description="RFC 9457 problem details; `code` is stable and machine-readable",
    required=["type", "title", "status", "code"],
    properties={
        "type": _STRING,
        "title": _STRING,
        "status": Schema(type=OpenAPIType.INTEGER, minimum=400, maximum=599),
        "code": Schema(type=OpenAPIType.STRING, pattern="^[a-z][a-z0-9_]*$"),
        "detail": _STRING,
        "instance": _STRING,
        "error": Schema(
            type=OpenAPIType.OBJECT,
            description="Only on OpenAI's routes (/v1/audio/*, /v1/models): OpenAI's error object, `code` as above",
            required=["message", "type", "param", "code"],
            properties={"message": _STRING, "type": _STRING, "param": Schema(), "code": _STRING},
        ),
    },
)


def problem_response(description: str = "An RFC 9457 problem with a stable `code`") -> OpenAPIResponse:
    return OpenAPIResponse(description=description, content={PROBLEM_JSON: OpenAPIMediaType(schema=PROBLEM_REF)})


def _is_litestar_error_shape(response: OpenAPIResponse | Reference) -> bool:
    if isinstance(response, Reference):
        return False
    for media in (response.content or {}).values():
        schemas = [media.schema, *(getattr(media.schema, "one_of", None) or ())]
        if any(isinstance(s, Schema) and {"status_code", "extra"} <= (s.properties or {}).keys() for s in schemas):
            return True
    return False


def _document_media(openapi: OpenAPI) -> None:
    for (method, path), operation in operations(openapi).items():
        media = RENDERED_MEDIA.get((method, path))
        ok = (operation.responses or {}).get("200")
        if media is None or not isinstance(ok, OpenAPIResponse) or set(ok.content or {}) != {"application/json"}:
            continue
        schema = (ok.content or {})["application/json"].schema
        if isinstance(schema, Schema) and schema.to_schema():
            continue  # a real JSON schema: documented by the handler itself
        ok.content = {name: OpenAPIMediaType(schema=schema) for name, schema in media.items()}


def document_bodies(openapi: OpenAPI) -> OpenAPI:
    """Problem+json for every status an operation does not document otherwise; the upload's body; the renderings."""
    openapi.components = openapi.components or Components()
    openapi.components.schemas = {**(openapi.components.schemas or {})}
    openapi.components.schemas.setdefault("Problem", PROBLEM)
    for operation in operations(openapi).values():
        responses = dict(operation.responses or {})
        for status, response in responses.items():
            if _is_litestar_error_shape(response):
                responses[status] = problem_response(getattr(response, "description", "") or "Bad request")
        responses.setdefault("default", problem_response())
        operation.responses = responses
    _document_media(openapi)
    return openapi


def _mark_public(app: Litestar, openapi: OpenAPI) -> None:
    """An operation whose handler takes no `tenant` is served without a key: say so, instead of the global bearer."""
    documented = operations(openapi)
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if "tenant" in handler.parsed_fn_signature.parameters:
                continue
            for method in handler.http_methods:
                if (operation := documented.get((method.lower(), route.path_format))) is not None:
                    operation.security = []


def _served_models_only(openapi: OpenAPI, names: list[str]) -> None:
    """A request's `model` is one of the models this deployment serves (OpenAI's routes: or an OpenAI name), so
    that a client or a fuzzer sends one that is accepted, not any string that is then refused as unknown."""
    for (_, path), operation in operations(openapi).items():
        body = operation.request_body
        for media in (body.content or {}).values() if isinstance(body, RequestBody) else ():
            form = media.schema
            if isinstance(form, Schema) and isinstance((form.properties or {}).get("model"), Schema):
                allowed = [*names, *OPENAI_MODELS] if path.startswith("/v1/audio/") else names
                model = replace(form.properties["model"], enum=allowed)  # type: ignore[index]
                media.schema = replace(form, properties={**(form.properties or {}), "model": model})
    for component in (openapi.components.schemas or {}).values() if openapi.components else ():
        model = (component.properties or {}).get("model") if isinstance(component, Schema) else None
        if isinstance(model, Schema) and model.pattern is not None:  # a request's (a response's has none)
            model.enum = [*names, None] if model.one_of else list(names)


def _closed_bodies(app: Litestar, openapi: OpenAPI) -> None:
    """A request body that refuses unknown fields (`forbid_unknown_fields`) says so (`additionalProperties: false`),
    so that a client or a fuzzer does not send fields that are then refused as an invalid request."""
    schemas = openapi.components.schemas or {} if openapi.components else {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            data = handler.parsed_fn_signature.parameters.get("data")
            for struct in _structs(data.annotation) if data is not None else ():
                component = schemas.get(struct.__name__)
                if isinstance(component, Schema) and struct.__struct_config__.forbid_unknown_fields:
                    component.additional_properties = False


def _structs(annotation: object) -> list[type[msgspec.Struct]]:
    """The Structs an annotation names (`X`, `X | None`)."""
    found = [annotation, *get_args(annotation)]
    return [t for t in found if isinstance(t, type) and issubclass(t, msgspec.Struct)]


def complete_document(app: Litestar) -> None:
    """At startup: Litestar builds the document once and caches it, so completing that object is enough."""
    openapi = app.openapi_schema
    document_bodies(openapi)
    _closed_bodies(app, openapi)
    _mark_public(app, openapi)
    _served_models_only(openapi, [m.name for m in app.state["catalog"].listing()])
    add_links(openapi)
