"""What a webhook endpoint may be: its URL, the events it subscribes to, its description, a secret's overlap."""

import secrets
from base64 import b64encode
from urllib.parse import urlsplit

from voxledger.contracts.webhooks import WEBHOOK_EVENT_TYPES
from voxledger.gateway.domain.errors import Unacceptable
from voxledger.gateway.domain.validation import check_text

MAX_URL_CHARS = 2048
MAX_DESCRIPTION_CHARS = 256
DEFAULT_OVERLAP_S = 24 * 3600
MAX_OVERLAP_S = 7 * 24 * 3600
SECRET_BYTES = 24


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes it: `whsec_` and base64 of random bytes."""
    return "whsec_" + b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def check_url(url: str) -> tuple[str, int]:
    """A well-formed http(s) URL without credentials or fragment; its host and port, to check where it goes."""
    check_text(url, "url", MAX_URL_CHARS)
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as err:
        raise Unacceptable("invalid_webhook_url", f"not a valid URL: {err}", field="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unacceptable("invalid_webhook_url", "the URL must be http:// or https:// with a host", field="url")
    if parts.username is not None or parts.password is not None:
        # Credentials in the URL would show in every read of the endpoint; the signature authenticates us.
        raise Unacceptable("invalid_webhook_url", "the URL may not hold credentials", field="url")
    if parts.fragment:
        raise Unacceptable("invalid_webhook_url", "the URL may not have a fragment", field="url")
    return parts.hostname, port


def check_events(events: list[str]) -> list[str]:
    """The subscribed event types, once each, in the catalog's order."""
    if not events:
        raise Unacceptable("invalid_event_types", "subscribe to at least one event type", field="events")
    if unknown := sorted(set(events) - set(WEBHOOK_EVENT_TYPES)):
        known = ", ".join(WEBHOOK_EVENT_TYPES)
        raise Unacceptable("invalid_event_types", f"unknown event types {unknown}; known: {known}", field="events")
    return [e for e in WEBHOOK_EVENT_TYPES if e in events]


def check_description(description: str) -> str:
    return check_text(description, "description", MAX_DESCRIPTION_CHARS)


def check_overlap(overlap_s: int) -> int:
    if not 0 <= overlap_s <= MAX_OVERLAP_S:
        raise Unacceptable("invalid_overlap", f"overlap_s must be 0 to {MAX_OVERLAP_S}", field="overlap_s")
    return overlap_s
