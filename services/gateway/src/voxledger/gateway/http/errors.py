"""Every error a client sees: RFC 9457 problem details with a stable machine-readable `code`.

This is the one place that turns errors into responses: a domain error by its kind (`STATUS_OF`),
an HTTP-level refusal (`ApiError`: a missing key, a stalled body, a readiness check), a Litestar
error by its status, and an outage of NATS or Postgres as a 503. Nothing else picks a status.
"""

from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from voxledger.contracts.ids import new_id
from voxledger.gateway.domain import deepgram
from voxledger.gateway.domain.errors import (
    Conflict,
    DomainError,
    Malformed,
    NotFound,
    QuotaExceeded,
    RangeNotSatisfiable,
    TooLarge,
    Unacceptable,
    UnsupportedMedia,
)
from voxledger.gateway.domain.openai import error_body
from voxledger.gateway.http.state import app_state
from voxledger.runtime.broker import BROKER_UNAVAILABLE_ERRORS, BrokerUnavailable
from voxledger.runtime.db import DATABASE_UNAVAILABLE_ERRORS

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    field: str | None = None  # the request field (body, form, query or header) the problem is about
    error: dict[str, Any] | None = None  # on OpenAI's routes: its error object, which OpenAI's clients read
    # On Deepgram's route: its error fields, which Deepgram's clients read.
    err_code: str | None = None
    err_msg: str | None = None
    request_id: str | None = None


class ApiError(Exception):
    """A refusal at the HTTP edge, with its status: authentication, timeouts, readiness, outages."""

    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None, *, field: str | None = None
    ):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.field = field


TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
# Routes that OpenAI's clients call: their problems also carry OpenAI's `error` object.
OPENAI_PREFIXES = ("/v1/audio/", "/v1/models")
DEEPGRAM_PATH = "/v1/listen"
# Where OpenAI answers otherwise: a file it cannot read is a 400 there (its clients raise BadRequestError).
OPENAI_STATUS = {415: 400}


def problem(status: int, code: str, detail: str | None, instance: str | None, field: str | None = None) -> Problem:
    return Problem(
        type=f"https://voxledger.dev/problems/{code}",
        title=TITLES.get(status, "Error"),
        status=status,
        code=code,
        detail=detail,
        instance=instance,
        field=field,
    )


RETRY_AFTER = {"Retry-After": "2"}


def dependency_outage(exc: Exception) -> ApiError | None:
    """The 503 for an error that means a server is unreachable, or None for a real bug."""
    # Broker first: nats' TimeoutError is also an OSError, and Postgres' connection errors are too.
    if isinstance(exc, (BrokerUnavailable, *BROKER_UNAVAILABLE_ERRORS)):
        return ApiError(503, "nats_unavailable", "the message broker (NATS) is unavailable; retry shortly", RETRY_AFTER)
    if isinstance(exc, DATABASE_UNAVAILABLE_ERRORS):
        return ApiError(503, "database_unavailable", "the database is unavailable; retry shortly", RETRY_AFTER)
    return None


# The status of each kind of domain error: the one table from a refusal to its HTTP status.
STATUS_OF: dict[type[DomainError], int] = {
    Malformed: 400,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    UnsupportedMedia: 415,
    Unacceptable: 422,
    QuotaExceeded: 429,
    RangeNotSatisfiable: 416,
    DomainError: 400,  # a refusal of no more specific kind
}
# Litestar's own errors (routing, its validation, its body limit) by status.
CODES_BY_STATUS = {
    400: "invalid_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",  # a JSON body over its route's limit; uploads answer file_too_large
    429: "too_many_requests",
}


def from_domain(err: DomainError) -> ApiError:
    """The problem a domain error answers with: its kind's status, its code, message and field."""
    status = next(STATUS_OF[kind] for kind in type(err).__mro__ if kind in STATUS_OF)
    headers = {"Retry-After": str(err.retry_after_s)} if isinstance(err, QuotaExceeded) else None
    return ApiError(status, err.code, err.message, headers, field=err.field)


def _problem_response(
    request: Request, status: int, code: str, detail: str | None, headers=None, field: str | None = None
) -> Response:
    app_state(request.scope).metrics.problems.labels(code).inc()
    body = route_problem(str(request.url.path), status, code, detail, field)
    return Response(body, status_code=body.status, media_type=PROBLEM_JSON, headers=headers)


def route_problem(path: str, status: int, code: str, detail: str | None, field: str | None = None) -> Problem:
    """The problem, with what the route's foreign clients read: OpenAI's `error` object, Deepgram's fields."""
    openai_route = path.startswith(OPENAI_PREFIXES)
    status = OPENAI_STATUS.get(status, status) if openai_route else status
    body = problem(status, code, detail, path, field)
    if openai_route:
        body.error = error_body(status, code, detail, field)
    if path == DEEPGRAM_PATH:
        body = msgspec.structs.replace(body, **deepgram.error_fields(code, detail, new_id()))
    return body


def on_api_error(request: Request, exc: ApiError) -> Response:
    return _problem_response(request, exc.status, exc.code, exc.detail, exc.headers, exc.field)


def on_domain_error(request: Request, exc: DomainError) -> Response:
    return on_api_error(request, from_domain(exc))


def on_http_exception(request: Request, exc: HTTPException) -> Response:
    detail, field = exc.detail, None
    if isinstance(exc, ValidationException) and exc.extra:
        errors = [e for e in exc.extra if isinstance(e, dict)]
        detail = "; ".join(f"{e.get('key', '')}: {e.get('message', '')}" for e in errors)
        field = next((str(e["key"]) for e in errors if e.get("key")), None)  # the first field named
    code = CODES_BY_STATUS.get(exc.status_code, "http_error")
    return _problem_response(request, exc.status_code, code, detail, exc.headers, field)


def on_unexpected(request: Request, exc: Exception) -> Response:
    if (outage := dependency_outage(exc)) is not None:
        log.warning("http.dependency_unavailable", path=str(request.url.path), code=outage.code, error=repr(exc))
        return on_api_error(request, outage)
    log.exception("http.unhandled_error", path=str(request.url.path))
    return _problem_response(request, 500, "internal_error", "an unexpected error occurred; it has been logged")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: on_domain_error,
    ApiError: on_api_error,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}
