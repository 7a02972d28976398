"""Byte ranges for the audio route: the forms browsers send, and what lies outside the blob."""

import pytest

from voxledger.gateway.domain.byte_range import byte_range
from voxledger.gateway.domain.errors import RangeNotSatisfiable


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-", (0, 999)),
        ("bytes=100-199", (100, 199)),
        ("bytes=900-5000", (900, 999)),  # a last byte past the end is clamped (RFC 9110 14.1.2)
        ("bytes=-100", (900, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=-", None),  # not a range we understand: the whole blob
        ("bytes=0-1,5-9", None),  # several ranges are not served: the whole blob
        ("items=0-1", None),
    ],
)
def test_ranges(header, expected):
    assert byte_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=500-100", "bytes=-0"])
def test_ranges_outside_the_blob_are_refused(header):
    with pytest.raises(RangeNotSatisfiable) as refused:
        byte_range(header, 1000)
    assert refused.value.code == "range_not_satisfiable"
