"""/v1/search: the tenant's transcripts by their words (full text), by meaning (embeddings), or both fused."""

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import Parameter

from voxledger.contracts.readmodels import SearchHitRow
from voxledger.gateway import schemas
from voxledger.gateway.adapters.passages import Passages, Scope
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.ask_schemas import SearchMode
from voxledger.gateway.domain.pagination import decode_offset, encode_offset
from voxledger.gateway.domain.ranking import Found, Scored, relevant
from voxledger.gateway.domain.search import parse_query
from voxledger.gateway.domain.speakers import MAX_NAME_CHARS
from voxledger.gateway.domain.validation import check_text
from voxledger.gateway.handlers.ask import CANDIDATES, embed_query, passage_found, retrieve
from voxledger.gateway.http.params import Cursor, SearchText, SpeakerName

MODE = Parameter(
    description="keyword: full text; semantic: by meaning (passage embeddings); hybrid: both, fused by rank"
)


@get(
    "/search",
    summary='Search transcripts by words ("exact phrases", prefix*) and by meaning; best matches first',
    opt={"scope": "read"},
)
async def search_transcripts(
    tenant: NamedDependency[str],
    readmodels: NamedDependency[ReadModels],
    q: SearchText,
    limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    cursor: Cursor = None,
    speaker: SpeakerName = None,
    mode: Annotated[SearchMode, MODE] = "hybrid",
) -> schemas.SearchPage:
    query = parse_query(q)
    speaker = check_text(speaker, "speaker", MAX_NAME_CHARS) if speaker is not None else None
    offset = decode_offset(cursor) if cursor else 0
    # Ranked, so the cursor is a position in the ranking rather than the last row's id.
    next_cursor = lambda _: encode_offset(offset + limit)  # noqa: E731
    if mode == "keyword":
        rows = await readmodels.transcripts.search(tenant, query.text, query.prefixes, limit + 1, offset, speaker)
        return schemas.SearchPage.of(rows, limit, schemas.search_hit_view, next_cursor)
    wanted = max(CANDIDATES, offset + limit + 1)
    scope = Scope(tenant=tenant, speaker=speaker)
    passages = Passages(readmodels.pool)
    vector = await embed_query(q, "q")
    if mode == "semantic":
        nearest = relevant([passage_found(r) for r in await passages.nearest(scope, vector, wanted)])
        ranked = [Scored(found=f, score=f.similarity or 0.0) for f in nearest]
    else:
        rows = await readmodels.transcripts.search(tenant, query.text, query.prefixes, wanted, 0, speaker)
        keyword = [_keyword_found(r) for r in rows]
        words = [passage_found(r) for r in await passages.by_words(scope, q, vector, wanted)]
        ranked = [s for s in await retrieve(passages, scope, vector, keyword, words) if _kept(s.found)]
    return schemas.SearchPage.of(ranked[offset : offset + limit + 1], limit, _hit_view, next_cursor)


def _kept(found: Found) -> bool:
    """A keyword hit, or a passage about the query: fusion alone never makes an unrelated passage a hit."""
    return found.snippet is not None or bool(relevant([found]))


def _keyword_found(row: SearchHitRow) -> Found:
    return Found(
        recording_id=row.recording_id,
        job_id=row.job_id,
        start=row.start_s,
        end=row.end_s,
        text=row.text,
        filename=row.filename,
        snippet=row.snippet,
        segment_index=row.idx,
    )


def _hit_view(scored: Scored) -> schemas.SearchHit:
    found = scored.found
    return schemas.SearchHit(
        recording_id=found.recording_id,
        job_id=found.job_id,
        filename=found.filename,
        segment_index=found.segment_index,
        start=found.start,
        end=found.end,
        snippet=found.snippet or found.text,  # a passage found by meaning alone: its text, nothing marked
        rank=round(scored.score, 6),
        links=schemas.recording_links(found.recording_id, found.job_id),
        text=found.text,
        speaker=found.speaker,
        score=round(scored.score, 6),
    )
