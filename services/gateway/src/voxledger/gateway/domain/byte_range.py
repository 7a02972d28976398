"""HTTP byte ranges (RFC 9110 section 14) over a blob of known size: what the audio player asks for when it seeks."""

import re

from voxledger.gateway.domain.errors import RangeNotSatisfiable

# One range only: the form browsers send (`bytes=0-`, `bytes=1000-1999`, `bytes=-500`). Multipart ranges are not served.
_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) bytes asked for; None for the whole blob (no header, or one we do not serve)."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None  # RFC 9110: a server may ignore a Range it does not understand and send everything
    first, last = match.group(1), match.group(2)
    if first == "":  # the last N bytes
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise RangeNotSatisfiable("range_not_satisfiable", f"the range lies outside the {size} bytes of the audio")
    return start, end
