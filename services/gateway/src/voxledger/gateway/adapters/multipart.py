"""Streaming multipart/form-data: the file part goes to a spooled temporary file as it arrives.

Small parts are held in memory; the audio never is beyond `memory_bytes`. Everything is bounded while
the body streams, not only by `Content-Length` (a chunked upload has none): the file's bytes, the whole
body, the number of parts, and each part's headers and value. The filename is reduced to a safe display
name; field values are checked for control characters.
"""

import hashlib
import tempfile
from collections.abc import AsyncIterator

from python_multipart.multipart import MultipartParser, parse_options_header

from voxledger.gateway.domain.problems import ApiError
from voxledger.gateway.domain.validation import check_text, display_filename

MAX_FIELD_BYTES = 4096
MAX_HEADER_BYTES = 2048  # one part header (name or value)
FORM_OVERHEAD_BYTES = 256 * 1024  # boundaries, part headers and small fields around the file


class UploadedForm:
    def __init__(self, memory_bytes: int):
        self.file = tempfile.SpooledTemporaryFile(max_size=memory_bytes)  # noqa: SIM115
        self.filename: str | None = None
        self.content_type = "application/octet-stream"
        self.size = 0
        self.sha256 = hashlib.sha256()
        self.head = b""
        self.fields: dict[str, str] = {}

    def close(self) -> None:
        self.file.close()


async def parse_upload(
    content_type: str, body: AsyncIterator[bytes], max_bytes: int, memory_bytes: int, max_fields: int = 16
) -> UploadedForm:
    media_type, params = parse_options_header(content_type)
    if media_type != b"multipart/form-data" or b"boundary" not in params:
        raise ApiError(415, "multipart_required", "send the audio as multipart/form-data with a `file` part")
    form = UploadedForm(memory_bytes)
    part: dict = {}
    header_field = bytearray()
    header_value = bytearray()

    parts = 0

    def on_part_begin() -> None:
        nonlocal parts
        parts += 1
        if parts > max_fields + 1:
            raise ApiError(413, "too_many_fields", f"the form has more than {max_fields} fields besides `file`")
        part.clear()
        part.update(headers={}, value=bytearray())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])
        if len(header_field) > MAX_HEADER_BYTES:
            raise ApiError(413, "field_too_large", "a form part's header is too large")

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])
        if len(header_value) > MAX_HEADER_BYTES:
            raise ApiError(413, "field_too_large", "a form part's header is too large")

    def on_header_end() -> None:
        part["headers"][bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(part["headers"].get(b"content-disposition", b""))
        part["name"] = check_text(disposition.get(b"name", b"").decode(errors="replace"), "form field name", 64)
        if part["name"] == "file":
            # Only ever a display name: the file itself goes to a temporary file and the Object Store.
            form.filename = display_filename(disposition.get(b"filename", b"upload").decode(errors="replace"))
            declared = part["headers"].get(b"content-type", b"application/octet-stream").decode(errors="replace")
            form.content_type = declared

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if part.get("name") == "file":
            form.size += len(chunk)
            if form.size > max_bytes:
                raise ApiError(413, "file_too_large", f"the file exceeds the {max_bytes // 2**20} MiB limit")
            if len(form.head) < 64:
                form.head += chunk[: 64 - len(form.head)]
            form.sha256.update(chunk)
            form.file.write(chunk)
        else:
            part["value"].extend(chunk)
            if len(part["value"]) > MAX_FIELD_BYTES:
                raise ApiError(413, "field_too_large", f"form field {part.get('name')!r} is too large", field=part.get("name"))

    def on_part_end() -> None:
        if part.get("name") and part["name"] != "file":
            name = part["name"]
            form.fields[name] = check_text(part["value"].decode(errors="replace"), name, MAX_FIELD_BYTES)

    parser = MultipartParser(
        params[b"boundary"],
        callbacks={
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    received, max_body = 0, max_bytes + FORM_OVERHEAD_BYTES
    try:
        async for chunk in body:
            received += len(chunk)
            if received > max_body:  # e.g. a huge preamble: counted as it streams, whatever Content-Length said
                raise ApiError(413, "file_too_large", f"the upload exceeds the {max_bytes // 2**20} MiB limit")
            parser.write(chunk)
        parser.finalize()
    except BaseException:
        form.close()
        raise
    form.file.seek(0)
    return form
