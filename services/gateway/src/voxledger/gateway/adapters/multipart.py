"""Streaming multipart/form-data: the file part goes to a spooled temporary file as it arrives.

Small parts are held in memory; the audio never is beyond `memory_bytes`. Everything is bounded while
the body streams, not only by `Content-Length` (a chunked upload has none): the file's bytes, the whole
body, the number of parts, and each part's headers and value. The filename is reduced to a safe display
name; field values are checked for control characters.
"""

import hashlib
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

from voxledger.gateway.domain.errors import Malformed, TooLarge, UnsupportedMedia
from voxledger.gateway.domain.validation import check_text, display_filename

PROSE_FIELDS = frozenset({"prompt"})  # may span lines, as in a JSON body; every other field is one line

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
        self.fields: dict[str, str] = {}  # the last value of each field
        self.lists: dict[str, list[str]] = {}  # every value of each field, in order (`name[]` fields repeat)

    def close(self) -> None:
        self.file.close()

    def add(self, chunk: bytes, max_bytes: int) -> None:
        """More of the file, within `max_bytes`."""
        self.size += len(chunk)
        if self.size > max_bytes:
            raise TooLarge("file_too_large", f"the file exceeds the {max_bytes // 2**20} MiB limit")
        if len(self.head) < 64:
            self.head += chunk[: 64 - len(self.head)]
        self.sha256.update(chunk)
        self.file.write(chunk)


class _FormReader:
    """python-multipart callbacks that fill an UploadedForm, each bound checked as the bytes arrive."""

    def __init__(self, form: UploadedForm, max_bytes: int, max_fields: int):
        self.form, self.max_bytes, self.max_fields = form, max_bytes, max_fields
        self.part: dict = {}
        self.parts = 0
        self._name_buf = bytearray()
        self._value_buf = bytearray()

    def callbacks(self) -> "MultipartCallbacks":
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self.parts += 1
        if self.parts > self.max_fields + 1:
            raise TooLarge("too_many_fields", f"the form has more than {self.max_fields} fields besides `file`")
        self.part = {"headers": {}, "value": bytearray()}

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._bounded(self._name_buf, data[start:end])

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._bounded(self._value_buf, data[start:end])

    @staticmethod
    def _bounded(buffer: bytearray, chunk: bytes) -> None:
        buffer.extend(chunk)
        if len(buffer) > MAX_HEADER_BYTES:
            raise TooLarge("field_too_large", "a form part's header is too large")

    def header_end(self) -> None:
        self.part["headers"][bytes(self._name_buf).lower()] = bytes(self._value_buf)
        self._name_buf.clear()
        self._value_buf.clear()

    def headers_finished(self) -> None:
        headers = self.part["headers"]
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        self.part["name"] = check_text(disposition.get(b"name", b"").decode(errors="replace"), "form field name", 64)
        if self.part["name"] == "file":
            # Only ever a display name: the file itself goes to a temporary file and the Object Store.
            self.form.filename = display_filename(disposition.get(b"filename", b"upload").decode(errors="replace"))
            declared = headers.get(b"content-type", b"application/octet-stream").decode(errors="replace")
            self.form.content_type = declared

    def part_data(self, data: bytes, start: int, end: int) -> None:
        chunk, form, name = data[start:end], self.form, self.part.get("name")
        if name == "file":
            form.add(chunk, self.max_bytes)
        else:
            self.part["value"].extend(chunk)
            if len(self.part["value"]) > MAX_FIELD_BYTES:
                raise TooLarge("field_too_large", f"form field {name!r} is too large", field=name)

    def part_end(self) -> None:
        name = self.part.get("name")
        if name and name != "file":
            text = self.part["value"].decode(errors="replace")
            value = check_text(text, name, MAX_FIELD_BYTES, multiline=name in PROSE_FIELDS)
            self.form.fields[name] = value
            self.form.lists.setdefault(name, []).append(value)


async def parse_upload(
    content_type: str, body: AsyncIterator[bytes], max_bytes: int, memory_bytes: int, max_fields: int = 16
) -> UploadedForm:
    media_type, params = parse_options_header(content_type)
    if media_type != b"multipart/form-data" or b"boundary" not in params:
        raise UnsupportedMedia("multipart_required", "send the audio as multipart/form-data with a `file` part")
    form = UploadedForm(memory_bytes)
    received, max_body = 0, max_bytes + FORM_OVERHEAD_BYTES
    try:
        # Built inside the try: the parser refuses a boundary over 256 bytes as it is built.
        parser = MultipartParser(params[b"boundary"], callbacks=_FormReader(form, max_bytes, max_fields).callbacks())
        async for chunk in body:
            received += len(chunk)
            if received > max_body:  # e.g. a huge preamble: counted as it streams, whatever Content-Length said
                raise TooLarge("file_too_large", f"the upload exceeds the {max_bytes // 2**20} MiB limit")
            parser.write(chunk)
        parser.finalize()
    except FormParserError as err:
        form.close()
        raise Malformed("malformed_multipart", f"the multipart body is malformed: {err}") from None
    except BaseException:
        form.close()
        raise
    form.file.seek(0)
    return form


# How a request's body becomes an UploadedForm: (content type, body, max file bytes, memory bytes, max fields).
BodyParser = Callable[[str, AsyncIterator[bytes], int, int, int], Awaitable[UploadedForm]]


async def read_body(
    content_type: str, body: AsyncIterator[bytes], max_bytes: int, memory_bytes: int, max_fields: int = 0
) -> UploadedForm:
    """A body that is the file itself (Deepgram's pre-recorded API), as a form with only its file."""
    form = UploadedForm(memory_bytes)
    form.filename, form.content_type = "audio", content_type or "application/octet-stream"
    try:
        async for chunk in body:
            form.add(chunk, max_bytes)
    except BaseException:
        form.close()
        raise
    form.file.seek(0)
    return form
