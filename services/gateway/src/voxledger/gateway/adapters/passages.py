"""Passage queries for semantic search and asking: nearest embeddings (pgvector, HNSW) and words (full text).

Every query is scoped to the caller's tenant in its WHERE clause (both the passage's and its recording's),
and covers each recording's newest completed transcript only, like keyword search.
"""

from datetime import datetime

import asyncpg
import msgspec

from voxledger.contracts.readmodels import DigestHitRow, PassageHitRow
from voxledger.gateway.adapters.readmodels import decode_rows

# The speaker as shown now: a label, the name given to it, or the name of the label it was merged into.
_SPEAKER = "coalesce(j.speaker_names->>(j.speaker_names->>p.speaker), j.speaker_names->>p.speaker, p.speaker)"
_COLUMNS = f"p.recording_id, p.job_id, p.idx, p.start_s, p.end_s, {_SPEAKER} AS speaker, p.text, r.filename"
# Parameters $1..$5 of every query: tenant, recordings, speaker, created from, created before.
_SCOPE = f"""FROM passages p
    JOIN recordings r ON r.recording_id = p.recording_id AND r.transcript_job_id = p.job_id
    JOIN jobs j ON j.job_id = p.job_id
    WHERE p.tenant_id = $1 AND r.tenant_id = $1 AND j.tenant_id = $1
      AND ($2::uuid[] IS NULL OR p.recording_id = ANY($2::uuid[]))
      AND ($3::text IS NULL OR $3 IN (p.speaker, {_SPEAKER}))
      AND ($4::timestamptz IS NULL OR r.created_at >= $4) AND ($5::timestamptz IS NULL OR r.created_at < $5)"""


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """Whose passages, and which of them: a tenant's, optionally of some recordings, a speaker, a time range."""

    tenant: str
    recording_ids: list[str] | None = None
    speaker: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None

    def params(self) -> tuple[object, ...]:
        return (self.tenant, self.recording_ids, self.speaker, self.created_from, self.created_before)


def vector_literal(vector: list[float]) -> str:
    return "[" + ",".join(format(x, ".9g") for x in vector) + "]"


class Passages:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def nearest(self, scope: Scope, vector: list[float], limit: int) -> list[PassageHitRow]:
        """Turn passages by cosine similarity to `vector`, nearest first. The HNSW scan goes on until `limit`
        rows pass the filters (pgvector's iterative scan), so a small tenant is not starved by a large one."""
        sql = f"""SELECT {_COLUMNS}, 1 - (p.embedding <=> $6::vector) AS similarity {_SCOPE} AND p.kind = 'turn'
                  ORDER BY p.embedding <=> $6::vector LIMIT $7"""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            await conn.execute(f"SET LOCAL hnsw.ef_search = {max(40, min(limit, 1000))}")
            records = await conn.fetch(sql, *scope.params(), vector_literal(vector), limit)
        return sorted(decode_rows(records, PassageHitRow), key=lambda h: -h.similarity)

    async def digests(self, scope: Scope, vector: list[float], limit: int) -> list[DigestHitRow]:
        """Recordings by their digest's similarity to `vector`, nearest first."""
        sql = f"""SELECT p.recording_id, 1 - (p.embedding <=> $6::vector) AS similarity {_SCOPE}
                  AND p.kind = 'digest' ORDER BY p.embedding <=> $6::vector LIMIT $7"""
        records = await self.pool.fetch(sql, *scope.params(), vector_literal(vector), limit)
        return decode_rows(records, DigestHitRow)

    async def by_words(self, scope: Scope, text: str, vector: list[float], limit: int) -> list[PassageHitRow]:
        """Turn passages holding any of the words of `text` (stemmed, stop words dropped), best ranked first."""
        sql = f"""WITH q AS (SELECT replace(plainto_tsquery('english', $6)::text, ' & ', ' | ') AS words)
                  SELECT {_COLUMNS}, 1 - (p.embedding <=> $7::vector) AS similarity {_SCOPE} AND p.kind = 'turn'
                    AND (SELECT words FROM q) <> '' AND p.search @@ (SELECT words FROM q)::tsquery
                  ORDER BY ts_rank_cd(p.search, (SELECT words FROM q)::tsquery) DESC, p.recording_id, p.idx LIMIT $8"""
        records = await self.pool.fetch(sql, *scope.params(), text, vector_literal(vector), limit)
        return decode_rows(records, PassageHitRow)
