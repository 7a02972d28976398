"""How a download is named: `Content-Disposition` for an export of a recording."""

import re
import unicodedata

# Path and quoting characters, control characters, and the invisible ones that make a name read differently
# from what it is (`evil\u202egpj.exe`).
_UNSAFE_IN_FILENAMES = re.compile(r'[\x00-\x1f\x7f-\x9f"\\/:*?<>|\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+')


def file_name(name: str, extension: str) -> str:
    """`<name>.<extension>`, safe on every file system: no path, quoting, control or direction characters."""
    return f"{_stem(name)}.{extension}"


def _stem(name: str) -> str:
    return _UNSAFE_IN_FILENAMES.sub("_", name.strip()).strip(" .") or "recording"


def attachment(name: str, extension: str) -> str:
    """A `Content-Disposition` naming the download `<name>.<extension>`: an ASCII fallback, and the name itself
    (RFC 6266 / RFC 5987) for clients that read `filename*`."""
    stem = _stem(name)
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode().strip(" .") or "recording"
    encoded = "".join(
        chr(b) if b < 128 and (chr(b).isalnum() or chr(b) in "-._~") else f"%{b:02X}" for b in stem.encode()
    )
    return f"attachment; filename=\"{ascii_stem}.{extension}\"; filename*=UTF-8''{encoded}.{extension}"
