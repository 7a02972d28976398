"""/v1/live/sessions: live sessions while they run and after they end, with their finals so far."""

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.params import Parameter

from voxledger.contracts.events import Segment
from voxledger.gateway import schemas
from voxledger.gateway.domain.pagination import decode_cursor, encode_cursor
from voxledger.gateway.handlers.common import fetch_fresh, valid_id
from voxledger.gateway.http.params import Cursor, MinSeq, SessionId


class LiveSession(msgspec.Struct, kw_only=True):
    session_id: str
    recording_id: str
    job_id: str
    status: str  # live | ended
    sample_rate: int
    encoding: str
    model: str
    language: str | None
    worker: str | None
    end_reason: str | None
    duration_s: float | None
    stats: dict[str, Any] | None
    started_at: datetime
    ended_at: datetime | None
    updated_at: datetime
    finals: list[Segment] | None = None


class LiveSessionPage(msgspec.Struct):
    items: list[LiveSession]
    next_cursor: str | None


def _view(row, finals: list[Segment] | None = None) -> LiveSession:
    return msgspec.convert({**row, "recording_id": row["session_id"], "finals": finals}, LiveSession)


@get("/v1/live/sessions", summary="List live sessions, newest first")
async def list_live_sessions(
    request: Request,
    tenant: str,
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    cursor: Cursor = None,
    min_seq: MinSeq = None,  # noqa: ARG001 (the consistency hook reads it)
) -> LiveSessionPage:
    before = decode_cursor(cursor) if cursor else None
    rows = await request.app.state.readmodels.live_sessions(tenant, limit + 1, before)
    next_cursor = encode_cursor(rows[limit - 1]["session_id"]) if len(rows) > limit else None
    return LiveSessionPage(items=[_view(r) for r in rows[:limit]], next_cursor=next_cursor)


@get("/v1/live/sessions/{session_id:str}", summary="A live session, its statistics and its finals so far")
async def get_live_session(
    request: Request, tenant: str, session_id: SessionId, min_seq: MinSeq = None  # noqa: ARG001
) -> LiveSession:
    session_id = valid_id(session_id, "live_session")
    readmodels = request.app.state.readmodels
    wait_s = request.app.state.settings.fresh_id_wait_s
    fetch = lambda: readmodels.live_session(tenant, session_id)  # noqa: E731
    row = await fetch_fresh(fetch, session_id, wait_s, "live_session", request.app.state.notifier)
    finals = [schemas.segment_view(r) for r in await readmodels.segments(tenant, row["job_id"])]
    return _view(row, finals)
