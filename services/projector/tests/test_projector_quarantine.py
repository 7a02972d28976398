"""Poison events with no IO: a failing batch is split until the failing events are alone, and every other
event is committed in order; what a quarantined event becomes; raw messages that do not decode."""

from datetime import UTC, datetime

import pytest

from voxledger.contracts import events as ev
from voxledger.contracts.envelope import encode, seal
from voxledger.projector.domain.intake import Item, project_message, subject_parts
from voxledger.projector.domain.ops import Update, Upsert
from voxledger.projector.domain.quarantine import QUARANTINE_TABLE, clean, isolate, quarantined

REC = "0190f0c0-0000-7000-8000-0000000000aa"
T0 = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


class Poison(Exception):
    pass


class Ledger:
    """Stands in for the database's transactions: a try commits all its items or none."""

    def __init__(self, poison: set[int], transient_at: int | None = None):
        self.poison = poison
        self.committed: list[int] = []
        self.set_aside: list[int] = []
        self.attempts = 0
        self.transient_at = transient_at

    async def attempt(self, chunk: list[int]) -> int:
        self.attempts += 1
        if self.attempts == self.transient_at:
            raise ConnectionError("server went away")
        if self.poison & set(chunk):
            raise Poison(sorted(self.poison & set(chunk))[0])
        self.committed.extend(chunk)
        return chunk[-1] if chunk else 0

    async def quarantine(self, item: int, err: Exception) -> int:
        assert str(err) == str(item), "the error is the isolated item's own"
        self.set_aside.append(item)
        self.committed.append(item)  # in its place: the quarantine row, and the checkpoint moves past it
        return item


async def run(items: list[int], ledger: Ledger) -> int:
    return await isolate(items, ledger.attempt, ledger.quarantine, lambda e: isinstance(e, Poison))


async def test_a_clean_batch_is_one_try():
    ledger = Ledger(poison=set())
    assert await run(list(range(1, 5001)), ledger) == 5000
    assert ledger.attempts == 1 and ledger.set_aside == []


@pytest.mark.parametrize("poison", [{1}, {5000}, {2500}, {7, 8}, {1, 4999, 5000}, set(range(100, 140))])
async def test_the_poison_is_isolated_and_everything_else_commits_in_order(poison):
    items = list(range(1, 5001))
    ledger = Ledger(poison=poison)
    assert await run(items, ledger) == 5000
    assert ledger.set_aside == sorted(poison)
    assert ledger.committed == items, "every event once, in order, the poison as its quarantine"


async def test_splitting_costs_a_few_tries_per_poison_event():
    ledger = Ledger(poison={3333})
    await run(list(range(1, 5001)), ledger)
    assert ledger.attempts <= 2 * 13 + 1  # two tries per halving of 5000


async def test_a_transient_failure_is_not_split_but_raised():
    ledger = Ledger(poison=set(), transient_at=1)
    with pytest.raises(ConnectionError):
        await run([1, 2, 3], ledger)
    assert ledger.committed == [] and ledger.set_aside == []


async def test_a_transient_failure_while_splitting_is_raised_with_the_prefix_committed():
    ledger = Ledger(poison={4}, transient_at=3)  # tries: all, [1..4] (poison), [1, 2]: transient
    with pytest.raises(ConnectionError):
        await run(list(range(1, 9)), ledger)
    assert ledger.set_aside == []  # the retry of the whole batch skips what is committed, by its checkpoint


def test_a_quarantined_event_becomes_its_row_and_a_mark_on_its_recording():
    item = Item(
        42,
        [Upsert("jobs", {"job_id": "j"}, {})],
        event_type="TranscriptionRequested",
        aggregate="rec",
        aggregate_id=REC,
        tenant_id="acme",
    )
    q = quarantined(item, "read_models", "DataError: unsupported Unicode escape sequence", T0)
    row, mark = q.ops
    assert (
        isinstance(row, Upsert)
        and row.table == QUARANTINE_TABLE
        and row.key == {"projection": "read_models", "seq": 42}
    )
    assert row.values["event_type"] == "TranscriptionRequested" and row.values["tenant_id"] == "acme"
    assert isinstance(mark, Update) and mark.key == {"recording_id": REC}
    assert mark.values == {"read_model_error": {"code": "event_quarantined", "seq": 42}}
    assert q.error and q.seq == 42
    assert len(quarantined(item, "read_models", "x", T0, mark=False).ops) == 1


def test_a_quarantined_command_effect_still_answers_its_token():
    effect = Upsert("command_effects", {"command_id": REC}, {"seq": 42, "recorded_at": T0})
    item = Item(42, [Upsert("jobs", {"job_id": "j"}, {}), effect], aggregate="rec", aggregate_id=REC)
    assert [op.table for op in quarantined(item, "read_models", "e", T0).ops] == [
        QUARANTINE_TABLE,
        "recordings",
        "command_effects",
    ]
    assert [op.table for op in quarantined(item, "read_models", "e", T0, mark=False).ops] == [QUARANTINE_TABLE]


def test_only_a_recording_with_a_valid_id_is_marked():
    for aggregate, aggregate_id in (("rec", "x"), ("key", REC), ("rec", "urn:uuid:" + REC), ("", "")):
        item = Item(1, [], aggregate=aggregate, aggregate_id=aggregate_id)
        assert [op.table for op in quarantined(item, "read_models", "e", T0).ops] == [QUARANTINE_TABLE]


def test_quarantine_text_is_always_storable():
    assert clean("x\x00y") == "x\\u0000y"
    assert clean("a\ud800b") == "a\\ud800b"
    assert len(clean("z" * 10_000)) == 2000
    item = Item(1, [], event_type="T\x00", aggregate_id="a\x00", tenant_id="t\ud800")
    row = quarantined(item, "read_models", "boom\x00", T0).ops[0].values
    assert all("\x00" not in v and "\ud800" not in v for v in row.values() if isinstance(v, str))


def test_a_message_that_is_not_an_envelope_is_an_error_item():
    item = project_message(7, "vl.evt.rec.x.Forged", b"{}")
    assert item.error and "ValidationError" in item.error and item.ops == []
    assert (item.aggregate, item.aggregate_id, item.event_type) == ("rec", "x", "Forged")
    assert project_message(8, "vl.evt.rec.x.Forged", b"\xff not json").error


def test_a_body_that_does_not_decode_is_an_error_item_and_an_unknown_type_is_skipped():
    good = encode(seal(ev.RecordingDeleted(), aggregate_id=REC, tenant_id="acme", occurred_at=T0))
    broken = good.replace(b'"type":"RecordingDeleted"', b'"type":"TranscriptionRequested"')
    item = project_message(9, f"vl.evt.rec.{REC}.TranscriptionRequested", broken)
    assert item.error and item.tenant_id == "" and item.aggregate_id == REC
    unknown = project_message(10, f"vl.evt.rec.{REC}.Archived", good.replace(b"RecordingDeleted", b"Archived"))
    assert unknown.skipped and unknown.error is None
    fine = project_message(11, f"vl.evt.rec.{REC}.RecordingDeleted", good)
    assert fine.error is None and fine.tenant_id == "acme" and fine.ops


def test_subject_parts():
    assert subject_parts(f"vl.evt.rec.{REC}.RecordingUploaded") == ("rec", REC, "RecordingUploaded")
    assert subject_parts("vl.evt.x") == ("x", "", "")
    assert subject_parts("elsewhere") == ("", "", "")
