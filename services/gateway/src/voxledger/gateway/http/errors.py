"""RFC 9457 problem details with a stable machine-readable `code`."""

import msgspec

from voxledger.runtime.broker import BROKER_UNAVAILABLE_ERRORS, BrokerUnavailable
from voxledger.runtime.db import DATABASE_UNAVAILABLE_ERRORS


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    field: str | None = None  # the request field (body, form, query or header) the problem is about


class ApiError(Exception):
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
}


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


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what}_not_found", f"no such {what.replace('_', ' ')}")


RETRY_AFTER = {"Retry-After": "2"}


def dependency_outage(exc: Exception) -> ApiError | None:
    """The 503 for an error that means a server is unreachable, or None for a real bug."""
    # Broker first: nats' TimeoutError is also an OSError, and Postgres' connection errors are too.
    if isinstance(exc, (BrokerUnavailable, *BROKER_UNAVAILABLE_ERRORS)):
        return ApiError(503, "nats_unavailable", "the message broker (NATS) is unavailable; retry shortly", RETRY_AFTER)
    if isinstance(exc, DATABASE_UNAVAILABLE_ERRORS):
        return ApiError(503, "database_unavailable", "the database is unavailable; retry shortly", RETRY_AFTER)
    return None
