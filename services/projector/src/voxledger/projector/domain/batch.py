"""A batch's row operations folded into the final rows to write, with no IO.

The adapter loads the rows the operations touch, this folds every operation onto
them in event order, and the adapter writes the outcome with a few set-based
statements: many events of one job (progress, segments, completion) become one
row write instead of one statement each.
"""

from collections.abc import Iterable
from typing import Any

import msgspec

from voxledger.projector.domain.ops import Add, InsertMany, Op, Purge, Row, Update, Upsert

# Primary key columns of every table a projection writes.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "api_keys": ("key_id",),
    "recordings": ("recording_id",),
    "jobs": ("job_id",),
    "segments": ("job_id", "idx"),
    "passages": ("job_id", "idx"),
    "insights": ("job_id", "kind"),
    "command_effects": ("command_id",),
    "deleted_recordings": ("recording_id",),
    "live_sessions": ("session_id",),
    "projection_quarantine": ("projection", "seq"),
    "webhook_endpoints": ("endpoint_id",),
    "webhook_deliveries": ("delivery_id",),
    "webhook_attempts": ("delivery_id", "attempt"),
    "tenant_usage": ("tenant_id",),
}

Key = tuple[Any, ...]
Tables = dict[str, dict[Key, Row]]  # table -> primary key -> row


class Outcome(msgspec.Struct):
    """Rows to upsert (whole rows), rows to insert unless present, and recordings to purge."""

    upserts: Tables
    inserts: Tables
    purged: dict[str, Purge]


def key_of(table: str, columns: Row) -> Key:
    pk = PRIMARY_KEYS[table]
    return (columns[pk[0]],) if len(pk) == 1 else tuple(columns[c] for c in pk)


def rows_to_load(ops: Iterable[Op]) -> dict[str, set[Key]]:
    """The existing rows the operations read or extend: every row an Upsert or Update names."""
    wanted: dict[str, set[Key]] = {}
    for op in ops:
        if isinstance(op, Upsert | Update | Add):
            wanted.setdefault(op.table, set()).add(key_of(op.table, op.key))
    return wanted


def fold_ops(ops: Iterable[Op], loaded: Tables) -> Outcome:
    """Applies the operations in order to the loaded rows (which it takes over)."""
    rows = loaded
    changed: dict[str, set[Key]] = {}
    inserts: Tables = {}
    purged: dict[str, Purge] = {}
    for op in ops:
        match op:
            case Upsert(table=table, key=key, values=values):
                pk = key_of(table, key)
                rows.setdefault(table, {}).setdefault(pk, dict(key)).update(values)
                changed.setdefault(table, set()).add(pk)
            case Update(table=table, key=key, values=values):
                pk = key_of(table, key)
                row = rows.get(table, {}).get(pk)
                conditional = len(key) > len(PRIMARY_KEYS[table])  # e.g. only while latest_job_id matches
                if row is not None and (not conditional or all(row.get(c) == v for c, v in key.items())):
                    row.update(values)
                    changed.setdefault(table, set()).add(pk)
            case Add(table=table, key=key, values=values):
                pk = key_of(table, key)
                row = rows.setdefault(table, {}).setdefault(pk, dict(key))
                for column, amount in values.items():
                    row[column] = (row.get(column) or 0) + amount
                changed.setdefault(table, set()).add(pk)
            case InsertMany(table=table, rows=new_rows):
                for new in new_rows:
                    inserts.setdefault(table, {}).setdefault(key_of(table, new), new)  # first one wins
            case Purge(recording_id=recording_id):
                purged[recording_id] = op
                _forget(rows, recording_id)
                _forget(inserts, recording_id)
    upserts = {t: {pk: rows[t][pk] for pk in pks if pk in rows[t]} for t, pks in changed.items()}
    return Outcome(upserts=upserts, inserts=inserts, purged=purged)


def _forget(tables: Tables, recording_id: str) -> None:
    for name, table in tables.items():
        # A quarantined event of the recording goes with it (by its aggregate id), as a replay would never
        # quarantine what the deletion in the same batch drops first.
        column = "aggregate_id" if name == "projection_quarantine" else "recording_id"
        for pk in [pk for pk, row in table.items() if row.get(column) == recording_id]:
            del table[pk]


def recording_ids(outcome: Outcome) -> set[str]:
    """Every recording a write of this outcome belongs to, to check against earlier deletions."""
    found: set[str] = set()
    for tables in (outcome.upserts, outcome.inserts):
        for table in tables.values():
            found.update(row["recording_id"] for row in table.values() if row.get("recording_id"))
    return found


def without_recordings(outcome: Outcome, deleted: set[str]) -> Outcome:
    """The outcome minus rows of deleted recordings: a late event never brings one back."""
    if not deleted:
        return outcome

    def keep(tables: Tables) -> Tables:
        return {
            t: {pk: row for pk, row in rows.items() if row.get("recording_id") not in deleted}
            for t, rows in tables.items()
        }

    return Outcome(upserts=keep(outcome.upserts), inserts=keep(outcome.inserts), purged=outcome.purged)
