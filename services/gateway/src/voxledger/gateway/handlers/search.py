"""/v1/search: full-text search over the tenant's transcripts, ranked, with a snippet and a time to jump to."""

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import Parameter

from voxledger.gateway import schemas
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.domain.pagination import decode_offset, encode_offset
from voxledger.gateway.domain.search import parse_query
from voxledger.gateway.domain.speakers import MAX_NAME_CHARS
from voxledger.gateway.domain.validation import check_text
from voxledger.gateway.http.params import Cursor, SearchText, SpeakerName


@get(
    "/search", summary='Search transcripts: words, "exact phrases", prefix*; best matches first', opt={"scope": "read"}
)
async def search_transcripts(
    tenant: NamedDependency[str],
    readmodels: NamedDependency[ReadModels],
    q: SearchText,
    limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    cursor: Cursor = None,
    speaker: SpeakerName = None,
) -> schemas.SearchPage:
    query = parse_query(q)
    speaker = check_text(speaker, "speaker", MAX_NAME_CHARS) if speaker is not None else None
    offset = decode_offset(cursor) if cursor else 0
    rows = await readmodels.transcripts.search(tenant, query.text, query.prefixes, limit + 1, offset, speaker)
    # Ranked, so the cursor is a position in the ranking rather than the last row's id.
    return schemas.SearchPage.of(rows, limit, schemas.search_hit_view, lambda _: encode_offset(offset + limit))
