"""UUIDv7 ids: valid, carrying their creation time, and sortable by it."""

import time
import uuid

from voxledger.contracts.ids import created_at_ms, is_valid_id, new_id


def test_new_id_is_a_canonical_uuid_version_7_rfc4122_variant():
    for _ in range(200):
        value = new_id()
        parsed = uuid.UUID(value)
        assert str(parsed) == value  # canonical, lower-case, dashed
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        assert is_valid_id(value)


def test_new_ids_are_unique():
    ids = {new_id() for _ in range(5000)}
    assert len(ids) == 5000


def test_created_at_ms_returns_the_creation_time():
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= created_at_ms(value) <= after


def test_ids_from_different_milliseconds_sort_by_creation_time():
    ids = []
    for _ in range(5):
        ids.append(new_id())
        start = time.time_ns()
        while time.time_ns() - start < 2_000_000:  # let the millisecond clock move on
            pass
    assert sorted(ids) == ids
    assert [created_at_ms(i) for i in ids] == sorted(created_at_ms(i) for i in ids)


def test_string_order_matches_timestamp_order():
    # Many ids, some sharing a millisecond: sorting the strings never puts a later ms before an earlier one.
    ids = [new_id() for _ in range(2000)]
    stamps = [created_at_ms(i) for i in sorted(ids)]
    assert stamps == sorted(stamps)


def test_created_at_ms_is_none_for_other_ids():
    assert created_at_ms(str(uuid.uuid4())) is None
    assert created_at_ms("not-a-uuid") is None
    assert created_at_ms("") is None


def test_is_valid_id():
    assert is_valid_id(str(uuid.uuid4()))
    assert not is_valid_id("")
    assert not is_valid_id("0190f0c0-0000-7000-8000")
    assert not is_valid_id("zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz")
