"""Opaque cursors over time-ordered ids (UUIDv7), stable while new rows are inserted."""

import base64
import binascii

from voxledger.contracts.ids import is_valid_id
from voxledger.gateway.domain.problems import ApiError


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):  # ValueError: non-ASCII input
        value = ""
    if not is_valid_id(value):
        raise ApiError(400, "invalid_cursor", "the cursor is not one this API returned")
    return value


def encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_offset(cursor: str) -> int:
    """Search pages are ranked, so their cursor is a position in the ranking."""
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):
        value = ""
    kind, _, offset = value.partition(":")
    if kind != "o" or not offset.isdigit():
        raise ApiError(400, "invalid_cursor", "the cursor is not one this API returned")
    return int(offset)
