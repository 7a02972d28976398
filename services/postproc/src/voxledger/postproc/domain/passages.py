"""A transcript cut into passages for asking: speaker turns or sentence groups sized for the embedding model,
plus one short digest of the whole recording (so that the right recording is found first).

Nothing is cut silently: a line longer than a passage may be is split at word boundaries, its time shared
out by words, so every word of the transcript is in exactly one turn passage.
"""

from collections.abc import Callable, Iterator

import msgspec

from voxledger.contracts.events import PassageKind
from voxledger.contracts.insights import TranscriptLine
from voxledger.postproc.domain.summary import summarize

# all-MiniLM-L6-v2 accepts 256 tokens and was trained on 128; a question matches a passage of a sentence or two
# far better than a long one (docs/ask.md: on the evaluation set's texts, recall@5 0.93 at 32 tokens, 0.77 at 48).
PASSAGE_TOKENS = 32
DIGEST_TOKENS = 128  # the digest stands for the whole recording: as much of it as the model learnt to read
CountTokens = Callable[[str], int]


class PassageText(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    kind: PassageKind
    start: float
    end: float
    text: str
    speaker: str | None = None


def passages(lines: list[TranscriptLine], count: CountTokens, budget: int = PASSAGE_TOKENS) -> list[PassageText]:
    """The turn passages in order, then the digest (when the transcript has words)."""
    pieces = [piece for line in lines for piece in _fitting(line, count, budget)]
    groups = list(_groups(pieces, count, budget))
    found = [
        PassageText(
            index=i,
            kind="turn",
            start=group[0].start,
            end=group[-1].end,
            text=" ".join(p.text for p in group),
            speaker=group[0].speaker,
        )
        for i, group in enumerate(groups)
    ]
    if found and (digest := _digest(lines, count, DIGEST_TOKENS)):
        found.append(PassageText(index=len(found), kind="digest", start=found[0].start, end=found[-1].end, text=digest))
    return found


def _groups(pieces: list[TranscriptLine], count: CountTokens, budget: int) -> Iterator[list[TranscriptLine]]:
    """Consecutive lines of one speaker, as many as fit the budget together."""
    group: list[TranscriptLine] = []
    for piece in pieces:
        joined = " ".join(p.text for p in [*group, piece])
        if group and (piece.speaker != group[0].speaker or count(joined) > budget):
            yield group
            group = []
        group.append(piece)
    if group:
        yield group


def _fitting(line: TranscriptLine, count: CountTokens, budget: int) -> Iterator[TranscriptLine]:
    """The line itself when it fits; otherwise consecutive word runs that each fit, timed by their words."""
    text = line.text.strip()
    if not text:
        return
    if count(text) <= budget:
        yield TranscriptLine(index=line.index, start=line.start, end=line.end, text=text, speaker=line.speaker)
        return
    words = text.split()
    per_word = (line.end - line.start) / len(words)
    first = 0
    while first < len(words):
        last = first + 1
        while last < len(words) and count(" ".join(words[first : last + 1])) <= budget:
            last += 1
        start, end = line.start + first * per_word, line.start + last * per_word
        yield TranscriptLine(
            index=line.index, start=start, end=end, text=" ".join(words[first:last]), speaker=line.speaker
        )
        first = last


def _digest(lines: list[TranscriptLine], count: CountTokens, budget: int) -> str:
    """The built-in summary's keywords, then its key sentences, as many as fit one passage."""
    summary = summarize(lines)
    parts = [", ".join(summary.keywords) + ".", *(point.text for point in summary.points)]
    digest = ""
    for part in (p.strip() for p in parts):
        candidate = f"{digest} {part}".strip()
        if part.strip(".") and count(candidate) <= budget:
            digest = candidate
    return digest
