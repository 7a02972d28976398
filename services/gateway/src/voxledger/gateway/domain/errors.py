"""What the gateway's domain refuses, and why: a stable code, a plain message, the field it is about.

The domain knows nothing of HTTP. Each kind of refusal is its own class; `http/errors.py` maps the
kinds to statuses in one table, so a status is chosen in one place, never where the error is raised.
"""


class DomainError(Exception):
    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field  # the request field (body, form, query or header) it is about


class Malformed(DomainError):
    """A value that cannot be read as what it should be: a cursor, a sequence, a flag, a language code."""


class Unacceptable(DomainError):
    """A well-formed value that is refused: control characters, too long, a model not served, a missing part."""


class NotFound(DomainError):
    """No such thing for this tenant (also for an id that is not canonical: it cannot exist)."""


class Conflict(DomainError):
    """The request does not fit the current state: a transcript not ready, a finished job, a reused key."""


class TooLarge(DomainError):
    """A body, file, part or field over its bound."""


class UnsupportedMedia(DomainError):
    """Not multipart where multipart is needed, or not a recognised audio container."""


class QuotaExceeded(DomainError):
    """One of the tenant's quotas is used up; the client may retry after `retry_after_s`."""

    def __init__(self, quota: str, limit: float, retry_after_s: int):
        shown = int(limit) if float(limit).is_integer() else limit
        detail = f"the tenant's {quota.replace('_', ' ')} quota ({shown}) is used up; retry when some finish"
        super().__init__("quota_exceeded", detail, field=quota)  # the field names the quota
        self.retry_after_s = retry_after_s


class RangeNotSatisfiable(DomainError):
    """A byte range that lies outside the blob asked for."""


def not_found(what: str, message: str | None = None) -> NotFound:
    return NotFound(f"{what}_not_found", message or f"no such {what.replace('_', ' ')}")
