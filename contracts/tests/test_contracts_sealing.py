"""Sealed fields on the wire: encrypted with the recording's key, bound to it, blank once the key is gone."""

import json
import os
import stat
from datetime import UTC, datetime

import msgspec
import pytest
from cryptography.exceptions import InvalidTag

from voxledger.contracts import events as ev
from voxledger.contracts import insights as ins
from voxledger.contracts.commands import NameSpeakers, RequestTranscription, UploadRecording
from voxledger.contracts.envelope import KeyRequired, decode, encode, seal
from voxledger.contracts.sealing import SEALED_FIELDS
from voxledger.projector.domain.intake import project_message
from voxledger.runtime.crypto import (
    DataCipher,
    MasterKeys,
    ensure_master_key,
    retire_old_master_keys,
    rotate_master_file,
)

REC, OTHER = "0190a000-0000-7000-8000-000000000001", "0190a000-0000-7000-8000-000000000002"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
WORD = "pelican"


def _segments() -> ev.SegmentsTranscribed:
    words = [ev.Word(0.0, 0.5, f" {WORD}", 0.9)]
    segment = ev.Segment(index=0, start=0.0, end=0.5, text=f"the {WORD}", avg_logprob=-0.2, no_speech_prob=0.01)
    return ev.SegmentsTranscribed(job_id="j1", segments=[msgspec.structs.replace(segment, words=words)])


# What a person typed to steer the model: sealed; the options the dispatcher routes on stay in clear.
TYPED = ev.TranscriptionOptions(model="small", prompt=f"Minutes, {WORD}.", hotwords=WORD, priority="high")


def _item() -> ins.ActionItem:
    return ins.ActionItem(text=WORD, kind="request", assignee=None, due=None, start=0, end=1)


SEALED_BODIES = [
    _segments(),
    ev.RecordingUploaded(filename=f"{WORD}.ogg", content_type="audio/ogg", size_bytes=1, blob_key="b", blob_digest="d"),
    UploadRecording(
        recording_id=REC, filename=f"{WORD}.ogg", content_type="audio/ogg", size_bytes=1, blob_key="b", blob_digest="d"
    ),
    UploadRecording(
        recording_id=REC,
        filename="a.ogg",
        content_type="audio/ogg",
        size_bytes=1,
        blob_key="b",
        blob_digest="d",
        job_id="j1",
        options=TYPED,
    ),
    ev.TranscriptionRequested(job_id="j1", options=TYPED),
    RequestTranscription(recording_id=REC, job_id="j1", options=TYPED),
    *(
        ev.InsightReady(job_id="j1", run_id="r1", kind=kind, engine="builtin", payload=payload, processing_s=0.1)
        for kind, payload in (
            ("summary", ins.Summary(text=f"about a {WORD}", points=[], keywords=[WORD])),
            ("action_items", ins.ActionItems(items=[_item()])),
            ("refinement", ins.Refinement(text=WORD, paragraphs=[], fillers_removed=0, repeats_removed=0)),
        )
    ),
    ev.SpeakersNamed(job_id="j1", names={"S1": WORD, "S2": "S1"}),
    ev.PassagesEmbedded(
        job_id="j1",
        model="m",
        dimensions=2,
        passages=[ev.Passage(index=0, kind="digest", start=0.0, end=9.0, text=WORD, vector=b"\1" * 8)],
    ),
    NameSpeakers(recording_id=REC, job_id="j1", names={"S1": WORD}, merge={"S2": "S1"}),
]


@pytest.mark.parametrize("body", SEALED_BODIES, ids=lambda b: type(b).__name__)
def test_a_sealed_message_keeps_no_word_in_clear_and_opens_with_its_key(body):
    cipher = DataCipher(DataCipher.new_key())
    wire = encode(seal(body, aggregate_id=REC, tenant_id="acme", occurred_at=T0), cipher)
    assert WORD.encode() not in wire
    data = json.loads(wire)["data"]
    clear = msgspec.to_builtins(body)
    for name in SEALED_FIELDS[type(body).__name__]:
        outer, _, inner = name.partition(".")
        (clear.get(outer, {}) if inner else clear).pop(inner or outer, None)
    assert data == {**clear, "sealed": data["sealed"]}, "only the sensitive fields are sealed; the rest stays in clear"
    opened = decode(wire, lambda rid: cipher if rid == REC else None)
    assert opened.body == body and not opened.erased
    with pytest.raises(KeyRequired):
        decode(wire)  # a reader wired without keys fails loudly, never reads ciphertext as content


@pytest.mark.parametrize("body", SEALED_BODIES, ids=lambda b: type(b).__name__)
def test_once_the_key_is_gone_a_sealed_message_decodes_erased(body):
    wire = encode(seal(body, aggregate_id=REC, tenant_id="acme"), DataCipher(DataCipher.new_key()))
    erased = decode(wire, lambda _: None)
    assert erased.erased and type(erased.body) is type(body)
    assert WORD not in msgspec.json.encode(erased.body).decode()


def test_a_ciphertext_moved_to_another_recording_or_event_does_not_decrypt():
    cipher = DataCipher(DataCipher.new_key())
    doc = json.loads(encode(seal(_segments(), aggregate_id=REC, tenant_id="acme"), cipher))
    for field, value in (("aggregate_id", OTHER), ("event_id", "0190a000-0000-7000-8000-0000000000ff")):
        with pytest.raises(InvalidTag):
            decode(json.dumps({**doc, field: value}).encode(), lambda _: cipher)


def test_a_clear_v1_event_of_an_older_log_still_decodes():
    message = seal(_segments(), aggregate_id=REC, tenant_id="acme")
    doc = json.loads(encode(message))
    doc["schema_version"] = 1
    assert decode(json.dumps(doc).encode(), lambda _: None).body == message.body


def test_the_projector_projects_an_erased_event_to_nothing_instead_of_quarantining_it():
    wire = encode(seal(_segments(), aggregate_id=REC, tenant_id="acme"), DataCipher(DataCipher.new_key()))
    item = project_message(7, f"vl.evt.rec.{REC}.SegmentsTranscribed", wire, lambda _: None)
    assert item.error is None and item.skipped is None and item.ops == []


def test_master_key_file_is_owner_only_and_rotation_rewraps_without_losing_old_keys(tmp_path):
    path = ensure_master_key(tmp_path / "secrets" / "master-key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    master, data_key = MasterKeys(path), os.urandom(32)
    first, old = master.current, master.wrap(REC, data_key)
    new_kid = rotate_master_file(path)
    master.reload()
    assert master.current == new_kid != first
    assert master.unwrap(REC, old) == (data_key, first), "not yet re-wrapped: the old key still unwraps it"
    rewrapped = master.wrap(REC, data_key)
    assert master.unwrap(REC, rewrapped) == (data_key, new_kid)
    retire_old_master_keys(path)
    master.reload()
    assert master.unwrap(REC, rewrapped)[0] == data_key
    with pytest.raises(KeyError):
        master.unwrap(REC, old)  # the retired key is gone for good
    with pytest.raises(InvalidTag):
        master.unwrap(OTHER, rewrapped)  # a wrapped key is bound to its recording
