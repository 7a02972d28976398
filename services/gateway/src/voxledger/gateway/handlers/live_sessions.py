"""/v1/live/sessions: live sessions while they run and after they end, with their finals so far."""

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import Parameter

from voxledger.gateway import schemas
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.domain.pagination import decode_cursor, encode_cursor
from voxledger.gateway.handlers.common import FreshReads
from voxledger.gateway.http.params import Cursor, SessionId


@get("/live/sessions", summary="List live sessions, newest first", opt={"scope": "read"})
async def list_live_sessions(
    tenant: NamedDependency[str],
    readmodels: NamedDependency[ReadModels],
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> schemas.LiveSessionPage:
    before = decode_cursor(cursor) if cursor else None
    rows = await readmodels.live.page(tenant, limit + 1, before)
    return schemas.LiveSessionPage.of(rows, limit, schemas.live_session_view, lambda r: encode_cursor(r.session_id))


@get(
    "/live/sessions/{session_id:str}",
    summary="A live session, its statistics and its finals so far",
    opt={"scope": "read"},
)
async def get_live_session(
    tenant: NamedDependency[str], fresh: NamedDependency[FreshReads], session_id: SessionId
) -> schemas.LiveSession:
    row = await fresh.live_session(tenant, session_id)
    finals = [schemas.segment_view(r) for r in await fresh.readmodels.transcripts.segments(tenant, row.job_id)]
    return schemas.live_session_view(row, finals)
