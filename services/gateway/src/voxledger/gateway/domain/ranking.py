"""Hybrid ranking and the extractive answer, as pure functions over what the read models found.

A moment's score is its passage's cosine similarity to the query, plus a bonus for each keyword list it is in
(at most KEYWORD_BONUS, decaying with its rank there as in reciprocal rank fusion) and a smaller one for its
recording's digest rank. Plain reciprocal rank fusion (Cormack et al. 2009) was measured first: any moment in
two lists beat the best one by meaning alone, so a question's words matching a passage about something else
won (bench/ask.py: recall@1 0.70 against 0.80 by meaning alone, whatever the lists' weights). A keyword hit
(a segment) inside a passage found by meaning is the same moment: it keeps the hit's place (its segment, start
and end, and the <mark>ed snippet) and the passage's similarity.
"""

from collections.abc import Sequence

import msgspec

RRF_K = 60
KEYWORD_BONUS = 0.05  # a keyword match breaks near-ties of meaning, and ranks the hits found by words alone
DIGEST_BONUS = 0.02  # a recording's digest rank breaks nearer ties still (measured neutral on bench/ask.py's set)
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


def _decaying(bonus: float, rank: int) -> float:
    return bonus * RRF_K / (RRF_K + rank - 1)


def fuse(
    keyword: Sequence[Sequence[Found]], nearest: Sequence[Found] = (), recordings: Sequence[str] = ()
) -> list[Scored]:
    """The moments of the keyword lists and the nearest passages, each once, best first; `recordings` ranks
    recordings by their digest."""
    ranked = [*keyword, nearest]
    passages = [f for items in ranked for f in items if f.passage is not None]
    merged: dict[tuple[str, str, int], Found] = {}
    scores: dict[tuple[str, str, int], float] = {}
    for i, items in enumerate(ranked):
        for rank, item in enumerate(items, start=1):
            into = _containing(item, passages)
            key = into.key()
            kept = merged.get(key, into)
            if item.snippet is not None and kept.snippet is None:  # a keyword hit gives the moment its exact place
                kept = msgspec.structs.replace(
                    item, passage=into.passage, similarity=into.similarity, speaker=into.speaker or item.speaker
                )
            merged[key] = kept
            bonus = _decaying(KEYWORD_BONUS, rank) if i < len(keyword) else 0.0
            scores[key] = scores.get(key, 0.0) + bonus
    prior = {rid: _decaying(DIGEST_BONUS, rank) for rank, rid in enumerate(recordings, start=1)}
    out = [
        Scored(found=f, score=(f.similarity or 0.0) + scores[k] + prior.get(f.recording_id, 0.0))
        for k, f in merged.items()
    ]
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
