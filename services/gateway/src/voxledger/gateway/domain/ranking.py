"""Hybrid ranking and the extractive answer, as pure functions over what the read models found.

Reciprocal rank fusion (Cormack et al. 2009): an item's score is the sum of 1 / (K + rank) over the ranked
lists it is in, so neither full-text ranks nor cosine similarities need a common scale. A keyword hit (a
segment) inside a passage found by meaning is the same moment: they fuse into that passage. The digest list
ranks whole recordings; each of a recording's hits gets its share, so the right recording comes first. A fused
moment keeps the keyword hit's place (its segment, start and end) and the passage's similarity.
"""

import html
from collections.abc import Sequence

import msgspec

RRF_K = 60
DIGEST_WEIGHT = 0.5  # a recording's digest rank counts half a passage rank: it says where, not when
# Below this cosine similarity a passage is not about the question: on the reference texts of bench/ask.py's
# set, no unanswerable question's best passage reaches it (the highest: 0.23); see docs/ask.md.
MIN_SIMILARITY = 0.25
ANSWER_PASSAGES = 3


class Found(msgspec.Struct, frozen=True, kw_only=True):
    """A moment found: a passage (`passage` its index) or a keyword-matched segment (`segment_index`)."""

    recording_id: str
    job_id: str
    start: float
    end: float
    text: str
    filename: str
    speaker: str | None = None
    snippet: str | None = None  # a keyword hit's text with the matches in <mark></mark>
    segment_index: int | None = None
    passage: int | None = None
    similarity: float | None = None  # the passage's cosine similarity to the query, when it was embedded

    def key(self) -> tuple[str, str, int]:
        return (
            self.job_id,
            "passage" if self.passage is not None else "segment",
            self.passage or self.segment_index or 0,
        )


class Scored(msgspec.Struct, frozen=True, kw_only=True):
    found: Found
    score: float


def fuse(ranked: Sequence[Sequence[Found]], recordings: Sequence[str] = ()) -> list[Scored]:
    """The lists' items, each once, best fused score first; `recordings` ranks recordings by their digest."""
    passages = [f for items in ranked for f in items if f.passage is not None]
    merged: dict[tuple[str, str, int], Found] = {}
    scores: dict[tuple[str, str, int], float] = {}
    for items in ranked:
        for rank, item in enumerate(items, start=1):
            into = _containing(item, passages)
            key = into.key()
            kept = merged.get(key, into)
            if item.snippet is not None and kept.snippet is None:  # a keyword hit gives the moment its exact place
                kept = msgspec.structs.replace(
                    item, passage=into.passage, similarity=into.similarity, speaker=into.speaker or item.speaker
                )
            merged[key] = kept
            scores[key] = scores.get(key, 0.0) + 1 / (RRF_K + rank)
    prior = {rid: DIGEST_WEIGHT / (RRF_K + rank) for rank, rid in enumerate(recordings, start=1)}
    out = [Scored(found=f, score=scores[k] + prior.get(f.recording_id, 0.0)) for k, f in merged.items()]
    return sorted(out, key=lambda s: (-s.score, s.found.recording_id, s.found.start))


def _containing(item: Found, passages: Sequence[Found]) -> Found:
    """A segment's passage when one found covers its middle; the item itself otherwise."""
    if item.passage is not None:
        return item
    middle = (item.start + item.end) / 2
    for passage in passages:
        if passage.job_id == item.job_id and passage.start <= middle <= passage.end:
            return passage
    return item


def relevant(found: Sequence[Found], min_similarity: float = MIN_SIMILARITY) -> list[Found]:
    return [f for f in found if f.similarity is not None and f.similarity >= min_similarity]


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    citations: list[Scored]


NOT_FOUND = "Not found: no passage of your recordings answers this."


def extractive_answer(fused: Sequence[Scored], min_similarity: float = MIN_SIMILARITY) -> Answer:
    """The best passages about the question, quoted with speaker and time; "not found" when none is."""
    cited = [s for s in fused if s.found.similarity is not None and s.found.similarity >= min_similarity]
    cited = cited[:ANSWER_PASSAGES]
    if not cited:
        return Answer(text=NOT_FOUND, citations=[])
    lines = [
        f'[{i}] "{s.found.text}" ({_who(s.found)}, {s.found.filename} at {clock(s.found.start)})'
        for i, s in enumerate(cited, start=1)
    ]
    return Answer(text="\n".join(lines), citations=cited)


def _who(found: Found) -> str:
    return found.speaker or "unknown speaker"


def clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def plain_snippet(text: str) -> str:
    """A passage's text as a snippet: escaped like a keyword hit's, with nothing marked."""
    return html.escape(text, quote=False)
