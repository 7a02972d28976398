"""Opaque pagination cursors over UUIDv7 ids."""

import base64

import pytest

from voxledger.contracts.ids import new_id
from voxledger.gateway.domain.errors import DomainError
from voxledger.gateway.domain.pagination import decode_cursor, encode_cursor
from voxledger.gateway.http.errors import from_domain


def test_cursor_round_trip():
    for _ in range(50):
        last = new_id()
        cursor = encode_cursor(last)
        assert decode_cursor(cursor) == last


def test_cursor_is_url_safe_and_opaque():
    last = new_id()
    cursor = encode_cursor(last)
    assert last not in cursor
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!!",
        "a",
        "Zm9v",  # valid base64 of "foo"
        base64.urlsafe_b64encode(b"not-a-uuid").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe\xfa").decode(),  # not UTF-8
        encode_cursor(new_id())[:-3],  # truncated
    ],
)
def test_garbage_cursor_is_a_400_invalid_cursor(cursor):
    with pytest.raises(DomainError) as info:
        decode_cursor(cursor)
    assert from_domain(info.value).status == 400
    assert info.value.code == "invalid_cursor"


def test_non_ascii_cursor_is_a_400_invalid_cursor():
    with pytest.raises(DomainError) as info:
        decode_cursor("é")
    assert info.value.code == "invalid_cursor"


def test_a_page_is_built_from_limit_plus_one_rows():
    from voxledger.gateway.schemas import JobPage, Page

    rows = [{"id": str(i)} for i in range(4)]
    page = JobPage.of(rows, 3, lambda r: r["id"], lambda r: f"after-{r['id']}")
    assert isinstance(page, Page) and (page.items, page.next_cursor) == (["0", "1", "2"], "after-2")
    last = JobPage.of(rows[:3], 3, lambda r: r["id"], lambda r: f"after-{r['id']}")
    assert (last.items, last.next_cursor) == (["0", "1", "2"], None)  # no extra row: the last page
