"""The streaming multipart parser: every bound holds while the body streams, without Content-Length."""

import pytest

from voxledger.gateway.adapters.multipart import parse_upload
from voxledger.gateway.domain.errors import DomainError
from voxledger.gateway.http.errors import ApiError, from_domain

BOUNDARY = "b0undary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def form(fields: dict[str, bytes], filename: bytes = b"a.ogg", audio: bytes = b"OggS" + b"\0" * 100) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
        for name, value in fields.items()
    ]
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="'.encode() + filename + b'"\r\n\r\n'
    return b"".join(parts) + head + audio + f"\r\n--{BOUNDARY}--\r\n".encode()


async def chunks(body: bytes, size: int = 7):
    for i in range(0, len(body), size):
        yield body[i : i + size]


async def parse(body: bytes, max_bytes: int = 2**20, max_fields: int = 4):
    return await parse_upload(CONTENT_TYPE, chunks(body), max_bytes, 2**16, max_fields)


async def refused(body: bytes, **limits) -> ApiError:
    """The problem the refusal answers with: its status comes from the one table in http/errors.py."""
    with pytest.raises(DomainError) as caught:
        await parse(body, **limits)
    return from_domain(caught.value)


async def test_a_form_is_parsed_with_a_safe_filename():
    parsed = await parse(form({"language": b"en"}, filename="../x/ca\u202ell.ogg".encode()))
    assert (parsed.filename, parsed.fields, parsed.size) == ("call.ogg", {"language": "en"}, 104)
    assert parsed.head.startswith(b"OggS")
    parsed.close()


async def test_control_characters_in_a_field_are_refused_naming_it():
    err = await refused(form({"model": b"tiny\x00"}))
    assert (err.status, err.code, err.field) == (422, "invalid_characters", "model")


async def test_a_prompt_may_span_lines_as_in_a_json_body_but_no_other_field_may():
    parsed = await parse(form({"prompt": b"Acme\n\tQ3 budget"}))
    assert parsed.fields == {"prompt": "Acme\n\tQ3 budget"}
    parsed.close()
    err = await refused(form({"hotwords": b"Acme\nQ3"}))
    assert (err.status, err.code, err.field) == (422, "invalid_characters", "hotwords")
    err = await refused(form({"prompt": b"Acme\x0b"}))
    assert (err.status, err.code, err.field) == (422, "invalid_characters", "prompt")


async def test_fields_are_bounded_in_number_and_size():
    assert (await refused(form({f"f{i}": b"1" for i in range(5)}))).code == "too_many_fields"
    assert (await refused(form({"model": b"x" * 5000}))).code == "field_too_large"
    long_header = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{"n" * 3000}"\r\n\r\nv\r\n'.encode()
    assert (await refused(long_header)).code == "field_too_large"


async def test_the_file_and_the_whole_body_are_capped_as_they_stream():
    assert (await refused(form({}, audio=b"x" * 2048), max_bytes=1024)).code == "file_too_large"
    epilogue = form({}) + b"x" * (300 * 1024)  # bytes after the closing boundary still count
    assert (await refused(epilogue, max_bytes=1024)).code == "file_too_large"


async def test_a_malformed_body_is_a_400_not_a_500():
    err = await refused(b"x" * 100 + form({}))
    assert (err.status, err.code) == (400, "malformed_multipart")


async def test_only_multipart_is_accepted():
    with pytest.raises(DomainError) as caught:
        await parse_upload("application/json", chunks(b"{}"), 1024, 1024)
    assert caught.value.code == "multipart_required"
