"""A recording's name, tags and folder: a change is an event with the whole result; a field left out keeps its
value; nothing changes, nothing is appended; a deleted recording is not described."""

import pytest

from tests.decider import Scenario
from voxledger.contracts import events as ev
from voxledger.contracts.commands import DescribeRecording
from voxledger.contracts.decisions import Rejected
from voxledger.transcriber.domain.recording import Recording, decide, evolve

REC = "0190f0c0-0000-7000-8000-0000000000aa"
UPLOADED = ev.RecordingUploaded(filename="a.ogg", content_type="audio/ogg", size_bytes=1, blob_key="k", blob_digest="d")


def describe(**fields) -> DescribeRecording:
    return DescribeRecording(recording_id=REC, **fields)


def test_a_change_carries_the_whole_result_and_a_field_left_out_keeps_its_value():
    agg = Scenario(decide, evolve, Recording()).given(UPLOADED)
    first = agg.when(describe(name="Weekly sync", tags=["sales", "q3", "sales"]))
    assert first == [ev.RecordingDescribed(name="Weekly sync", tags=["sales", "q3"], folder="")]
    moved = agg.when(describe(folder="Customers"))
    assert moved == [ev.RecordingDescribed(name="Weekly sync", tags=["sales", "q3"], folder="Customers")]
    assert agg.when(describe(name="Weekly sync")) == [], "nothing changes"
    cleared = agg.when(describe(tags=[], name=""))
    assert cleared == [ev.RecordingDescribed(name="", tags=[], folder="Customers")]


def test_a_deleted_or_unknown_recording_is_not_described():
    with pytest.raises(Rejected) as unknown:
        Scenario(decide, evolve, Recording()).when(describe(name="x"))
    assert unknown.value.code == "recording_not_found"
    with pytest.raises(Rejected) as deleted:
        Scenario(decide, evolve, Recording()).given(UPLOADED, ev.RecordingDeleted()).when(describe(name="x"))
    assert deleted.value.code == "recording_deleted"
