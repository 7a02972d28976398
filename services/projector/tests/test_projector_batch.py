"""A batch's operations folded in order onto loaded rows: one write per row, deletions win."""

from datetime import UTC, datetime

from voxledger.projector.domain.batch import fold_ops, recording_ids, rows_to_load, without_recordings
from voxledger.projector.domain.ops import Add, InsertMany, Purge, Update, Upsert

REC, OTHER = "rec-1", "rec-2"
T0 = datetime(2025, 6, 1, tzinfo=UTC)


def test_updates_fold_onto_the_loaded_row_in_order():
    loaded = {"jobs": {("j1",): {"job_id": "j1", "recording_id": REC, "status": "queued", "progress": 0.0}}}
    ops = [
        Update("jobs", {"job_id": "j1"}, {"status": "running"}),
        Update("jobs", {"job_id": "j1"}, {"progress": 0.5}),
        Update("jobs", {"job_id": "j1"}, {"progress": 0.9}),
    ]
    assert rows_to_load(ops) == {"jobs": {("j1",)}}
    outcome = fold_ops(ops, loaded)
    assert outcome.upserts["jobs"] == {
        ("j1",): {"job_id": "j1", "recording_id": REC, "status": "running", "progress": 0.9}
    }


def test_an_update_with_a_condition_applies_only_when_the_row_matches():
    loaded = {"recordings": {(REC,): {"recording_id": REC, "latest_job_id": "j2", "status": "queued"}}}
    stale = Update("recordings", {"recording_id": REC, "latest_job_id": "j1"}, {"status": "completed"})
    missing = Update("jobs", {"job_id": "nope"}, {"status": "running"})
    outcome = fold_ops([stale, missing], loaded)
    assert outcome.upserts == {}


def test_an_upsert_creates_then_later_updates_extend_it():
    ops = [
        Upsert("jobs", {"job_id": "j1"}, {"recording_id": REC, "status": "queued"}),
        Update("jobs", {"job_id": "j1"}, {"status": "running"}),
    ]
    outcome = fold_ops(ops, {"jobs": {}})
    assert outcome.upserts["jobs"][("j1",)] == {"job_id": "j1", "recording_id": REC, "status": "running"}


def test_inserts_keep_the_first_row_of_a_key():
    first = {"job_id": "j1", "idx": 0, "recording_id": REC, "text": "first"}
    again = {**first, "text": "again"}
    outcome = fold_ops([InsertMany("segments", [first]), InsertMany("segments", [again])], {})
    assert outcome.inserts["segments"] == {("j1", 0): first}


def test_a_purge_drops_the_recordings_rows_and_later_writes_for_it():
    loaded = {"jobs": {("j1",): {"job_id": "j1", "recording_id": REC, "status": "running"}}}
    ops = [
        InsertMany("segments", [{"job_id": "j1", "idx": 0, "recording_id": REC}]),
        InsertMany("segments", [{"job_id": "j9", "idx": 0, "recording_id": OTHER}]),
        Purge(REC, "acme", T0),
        Update("jobs", {"job_id": "j1"}, {"status": "cancelled"}),  # the row is gone: no effect
        Upsert("jobs", {"job_id": "j2"}, {"recording_id": REC, "status": "queued"}),  # late: filtered below
    ]
    outcome = fold_ops(ops, loaded)
    assert set(outcome.purged) == {REC}
    assert recording_ids(outcome) == {REC, OTHER}
    kept = without_recordings(outcome, set(outcome.purged))
    assert kept.upserts == {"jobs": {}}
    assert list(kept.inserts["segments"]) == [("j9", 0)]


def test_a_deletion_drops_the_recordings_quarantined_events_too():
    quarantined = Upsert(
        "projection_quarantine", {"projection": "read_models", "seq": 5}, {"aggregate_id": REC, "error": "e"}
    )
    other = Upsert(
        "projection_quarantine", {"projection": "read_models", "seq": 6}, {"aggregate_id": OTHER, "error": "e"}
    )
    outcome = fold_ops([quarantined, other, Purge(REC, "acme", T0)], {"projection_quarantine": {}})
    assert list(outcome.upserts["projection_quarantine"]) == [("read_models", 6)]


def test_adds_sum_onto_the_loaded_total_or_start_one_and_survive_a_purge():
    usage = [Add("tenant_usage", {"tenant_id": t}, {"events": 1, "event_bytes": n}) for t, n in [("a", 5), ("b", 7)]]
    ops = [*usage, Purge("r1", "a", datetime.now(UTC)), usage[0]]
    assert rows_to_load(ops) == {"tenant_usage": {("a",), ("b",)}}
    loaded = {"tenant_usage": {("a",): {"tenant_id": "a", "events": 10, "event_bytes": 100}}}
    rows = fold_ops(ops, loaded).upserts["tenant_usage"]
    assert rows[("a",)] == {"tenant_id": "a", "events": 12, "event_bytes": 110}
    assert rows[("b",)] == {"tenant_id": "b", "events": 1, "event_bytes": 7}
