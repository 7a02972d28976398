"""The read-model contract against the schema the projector migrates: every column a gateway row reads exists,
and a column the contract says is never null is NOT NULL in the table (else a decode fails on a real row)."""

import types
import typing

import msgspec
import pytest

from voxledger.contracts import readmodels as rm

ROW_TABLES = {
    rm.RecordingRow: "recordings",
    rm.JobRow: "jobs",
    rm.QueuedJobRow: "jobs",
    rm.SegmentRow: "segments",
    rm.InsightRow: "insights",
    rm.LiveSessionRow: "live_sessions",
    rm.ApiKeyRow: "api_keys",
    rm.WebhookEndpointRow: "webhook_endpoints",
    rm.WebhookDeliveryRow: "webhook_deliveries",
    rm.WebhookAttemptRow: "webhook_attempts",
}


def _nullable(annotation: object) -> bool:
    return isinstance(annotation, types.UnionType) and type(None) in typing.get_args(annotation)


async def _columns(conn) -> dict[str, dict[str, bool]]:
    """table -> column -> whether it may be null, for every table of the projection."""
    rows = await conn.fetch(
        """SELECT table_name, column_name, is_nullable = 'YES' AS nullable FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name = ANY($1::text[])""",
        list(rm.TABLES),
    )
    found: dict[str, dict[str, bool]] = {}
    for table, column, nullable in rows:
        found.setdefault(table, {})[column] = nullable
    return found


@pytest.mark.parametrize("row_type", list(ROW_TABLES), ids=lambda t: t.__name__)
async def test_each_row_reads_columns_the_projector_writes(stack, pg_on, row_type):
    table = ROW_TABLES[row_type]
    assert table in rm.TABLES, f"{table} is not a table of the {rm.PROJECTION} projection"
    columns = (await _columns(await pg_on(stack.database_url)))[table]
    for field in msgspec.structs.fields(row_type):
        assert field.name in columns, f"{row_type.__name__}.{field.name}: no such column in {table}"
        if not _nullable(field.type):
            assert not columns[field.name], f"{table}.{field.name} may be null; {row_type.__name__} says never"
