"""Strict edges: every string a client sends is checked here, pure and without IO.

Text may not hold C0 control characters (tab and newline only where a field is multi-line) or DEL,
and has a bounded length. Numbers in query strings and headers are ASCII digits only, ids are
canonical UUIDs. A refused value is a domain error with a code naming the field (a 4xx, never a 500).
"""

import re
import unicodedata

import msgspec

from voxledger.gateway.domain.errors import Malformed, Unacceptable

MAX_TEXT_CHARS = 1024  # any client string we have no tighter bound for
MAX_FILENAME_CHARS = 255
MAX_SEQ_DIGITS = 18  # fits a Postgres bigint and a JetStream sequence
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
SEQ_PATTERN = rf"^[0-9]{{1,{MAX_SEQ_DIGITS}}}$"
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}$"
SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
MULTILINE_PATTERN = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"  # tab and newline allowed (prose)

_UUID = re.compile(UUID_PATTERN)
_SEQ = re.compile(SEQ_PATTERN)
_LANGUAGE = re.compile(LANGUAGE_PATTERN)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # what MULTILINE_PATTERN excludes
# Bidirectional overrides and isolates, and other invisible format characters that make a name
# read differently from what it is (e.g. `evil\u202Egpj.exe`).
_UNSAFE_IN_NAMES = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def check_text(value: str, field: str, max_chars: int = MAX_TEXT_CHARS, *, multiline: bool = False) -> str:
    """The value, if it has no control characters and is at most `max_chars` long; else 422."""
    pattern = _CONTROL_MULTILINE if multiline else _CONTROL
    if pattern.search(value):
        allowed = " (tab and newline are allowed)" if multiline else ""
        raise Unacceptable("invalid_characters", f"`{field}` holds control characters{allowed}", field)
    if len(value) > max_chars:
        raise Unacceptable("value_too_long", f"`{field}` is longer than {max_chars} characters", field)
    return value


def check_strings(value: object, field: str, max_chars: int = MAX_TEXT_CHARS) -> None:
    """Every string in a decoded body (structs, dicts, lists; keys too), each checked with `check_text`."""
    match value:
        case str():
            check_text(value, field, max_chars)
        case msgspec.Struct():
            check_strings(msgspec.to_builtins(value), field, max_chars)
        case dict():
            for key, item in value.items():
                check_text(str(key), f"{field}.{key}" if field else str(key), max_chars)
                check_strings(item, f"{field}.{key}" if field else str(key), max_chars)
        case list() | tuple():
            for i, item in enumerate(value):
                check_strings(item, f"{field}[{i}]", max_chars)


def parse_seq(raw: str, field: str, code: str) -> int:
    """A stream sequence or count from a query string or header: 1-18 ASCII digits (`"²".isdigit()` is True)."""
    if not _SEQ.match(raw):
        raise Malformed(code, f"`{field}` must be a number of 1 to {MAX_SEQ_DIGITS} ASCII digits", field)
    return int(raw)


def is_canonical_id(value: str) -> bool:
    """Only the hyphenated 36-character form: no `urn:uuid:`, braces or bare hex, which `uuid.UUID` accepts."""
    return bool(_UUID.match(value))


def check_language(value: str | None, field: str = "language") -> str | None:
    if value is None:
        return None
    if not _LANGUAGE.match(value):
        raise Malformed("invalid_language", "language must be an ISO 639-1 code such as `en`", field)
    return value.lower()


def display_filename(raw: str | None) -> str:
    """A safe name to show for an upload: no path components, control or bidi characters, bounded.

    The result is only ever displayed and stored as text; no file is opened or created by this name.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]  # `../../etc/passwd` and `C:\\x\\y.wav` keep the last part only
    name = _UNSAFE_IN_NAMES.sub("", name).strip().lstrip(".")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        name = name[: MAX_FILENAME_CHARS - len(keep) - 1].rstrip() + "." + keep if keep else name[:MAX_FILENAME_CHARS]
    return name or "upload"
