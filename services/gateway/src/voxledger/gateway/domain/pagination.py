"""Opaque cursors over time-ordered ids (UUIDv7), stable while new rows are inserted."""

import base64
import binascii

from voxledger.gateway.domain.errors import Malformed
from voxledger.gateway.domain.validation import MAX_SEQ_DIGITS, is_canonical_id

MAX_CURSOR_CHARS = 64  # our cursors are 48 characters (an id) or a few (an offset)
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def _invalid() -> Malformed:
    return Malformed("invalid_cursor", "the cursor is not one this API returned", field="cursor")


def decode_cursor(cursor: str) -> str:
    if len(cursor) > MAX_CURSOR_CHARS:
        raise _invalid()
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):  # ValueError: non-ASCII input
        value = ""
    if not is_canonical_id(value):
        raise _invalid()
    return value


def encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_offset(cursor: str) -> int:
    """Search pages are ranked, so their cursor is a position in the ranking."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise _invalid()
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):
        value = ""
    kind, _, offset = value.partition(":")
    if kind != "o" or not (offset.isascii() and offset.isdigit()) or len(offset) > MAX_SEQ_DIGITS:
        raise _invalid()
    return int(offset)
