"""A request that failed because NATS or Postgres is down answers 503 with a code, not a 500 with a traceback."""

from voxledger.gateway.domain.problems import ApiError
from voxledger.runtime.broker import BROKER_UNAVAILABLE_ERRORS, BrokerUnavailable
from voxledger.runtime.db import DATABASE_UNAVAILABLE_ERRORS

RETRY_AFTER = {"Retry-After": "2"}


def dependency_outage(exc: Exception) -> ApiError | None:
    """The 503 for an error that means a server is unreachable, or None for a real bug."""
    # Broker first: nats' TimeoutError is also an OSError, and Postgres' connection errors are too.
    if isinstance(exc, (BrokerUnavailable, *BROKER_UNAVAILABLE_ERRORS)):
        return ApiError(503, "nats_unavailable", "the message broker (NATS) is unavailable; retry shortly", RETRY_AFTER)
    if isinstance(exc, DATABASE_UNAVAILABLE_ERRORS):
        return ApiError(503, "database_unavailable", "the database is unavailable; retry shortly", RETRY_AFTER)
    return None
