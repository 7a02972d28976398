"""/v1/ask, and the retrieval that semantic and hybrid search share with it: the query embedded offline (the
same model the passages were embedded with), nearest passages, keyword hits, fused (domain/ranking.py)."""

import asyncio

from litestar import post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from voxledger.contracts.readmodels import PassageHitRow
from voxledger.gateway.adapters.passages import Passages, Scope
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.ask_schemas import AskAnswer, AskRequest, Citation
from voxledger.gateway.domain.errors import Unacceptable
from voxledger.gateway.domain.ranking import Found, Scored, extractive_answer, fuse
from voxledger.gateway.domain.speakers import MAX_NAME_CHARS
from voxledger.gateway.domain.validation import check_text
from voxledger.gateway.handlers.common import valid_id
from voxledger.gateway.schemas import recording_links
from voxledger.runtime.embeddings import TooLong, shared_embedder

CANDIDATES = 50  # passages each list contributes to a fusion
DIGESTS = 20


async def embed_query(text: str, field: str) -> list[float]:
    """The text's embedding, computed in a thread (the model runs on the CPU); too long for the model: 422."""

    def embed() -> list[float]:
        return [float(x) for x in shared_embedder().embed([text])[0]]

    try:
        return await asyncio.to_thread(embed)
    except TooLong as err:
        raise Unacceptable("value_too_long", f"`{field}` has more words than the model reads at once", field) from err


def passage_found(row: PassageHitRow) -> Found:
    return Found(
        recording_id=row.recording_id,
        job_id=row.job_id,
        start=row.start_s,
        end=row.end_s,
        text=row.text,
        filename=row.filename,
        speaker=row.speaker,
        passage=row.idx,
        similarity=row.similarity,
    )


async def retrieve(passages: Passages, scope: Scope, vector: list[float], *keyword: list[Found]) -> list[Scored]:
    """Hybrid retrieval: the keyword lists and the nearest passages fused, recordings ranked by their digest."""
    nearest = [passage_found(r) for r in await passages.nearest(scope, vector, CANDIDATES)]
    digests = await passages.digests(scope, vector, DIGESTS)
    return fuse(keyword, nearest, [d.recording_id for d in digests])


def citation(scored: Scored) -> Citation:
    found = scored.found
    return Citation(
        recording_id=found.recording_id,
        job_id=found.job_id,
        start=found.start,
        end=found.end,
        speaker=found.speaker,
        text=found.text,
        score=round(found.similarity or 0.0, 4),
        filename=found.filename,
        links=recording_links(found.recording_id, found.job_id),
    )


def ask_scope(tenant: str, data: AskRequest) -> Scope:
    ids = [valid_id(i, "recording") for i in data.recording_ids] if data.recording_ids is not None else None
    speaker = check_text(data.speaker, "speaker", MAX_NAME_CHARS) if data.speaker is not None else None
    return Scope(tenant=tenant, recording_ids=ids, speaker=speaker, created_from=data.from_, created_before=data.to)


@post(
    "/ask",
    summary="Ask the recordings: the passages that answer, quoted with speaker and time",
    status_code=200,
    opt={"scope": "read"},
)
async def ask(
    tenant: NamedDependency[str], readmodels: NamedDependency[ReadModels], data: JSONBody[AskRequest]
) -> AskAnswer:
    question = check_text(data.question, "question").strip()
    if not question:
        raise Unacceptable("invalid_question", "`question` must hold words", "question")
    scope = ask_scope(tenant, data)
    passages = Passages(readmodels.pool)
    vector = await embed_query(question, "question")
    words = [passage_found(r) for r in await passages.by_words(scope, question, vector, CANDIDATES)]
    answer = extractive_answer(await retrieve(passages, scope, vector, words))
    citations = [citation(s) for s in answer.citations]
    return AskAnswer(answer=answer.text, engine="extractive", found=bool(citations), citations=citations)
