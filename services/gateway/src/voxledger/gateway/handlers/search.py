"""/v1/search: full-text search over the tenant's transcripts, ranked, with a snippet and a time to jump to."""

from typing import Annotated

from litestar import Request, get
from litestar.params import Parameter

from voxledger.gateway import schemas
from voxledger.gateway.domain.pagination import decode_offset, encode_offset
from voxledger.gateway.domain.search import parse_query
from voxledger.gateway.http.params import Cursor, SearchText


@get("/v1/search", summary='Search transcripts: words, "exact phrases", prefix*; best matches first')
async def search_transcripts(
    request: Request,
    tenant: str,
    q: SearchText,
    limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    cursor: Cursor = None,
) -> schemas.SearchPage:
    query = parse_query(q)
    offset = decode_offset(cursor) if cursor else 0
    rows = await request.app.state.readmodels.search(tenant, query.text, query.prefixes, limit + 1, offset)
    items = [schemas.search_hit_view(r) for r in rows[:limit]]
    return schemas.SearchPage(items=items, next_cursor=encode_offset(offset + limit) if len(rows) > limit else None)
