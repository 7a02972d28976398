"""Text primitives the built-in engines share: words, sentences with times, questions, stop words.

Pure functions, no IO. Sentences are cut from the transcript as one running text, so a sentence that the
recognizer split over two segments is one sentence again, and a segment that holds three sentences gives
three, each with its time interpolated by character position inside its segment.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from voxledger.contracts.insights import TranscriptLine


def word_set(text: str) -> frozenset[str]:
    """A set of words written as one whitespace-separated string (keeps long word lists readable)."""
    return frozenset(text.split())


WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['.\-][A-Za-z0-9]+)*")
_SPACES = re.compile(r"\s+")
# A sentence ends at . ! ? (or a run of them, or an ellipsis), optionally followed by closing quotes/brackets.
_SENTENCE_END = re.compile(r"(?:[.!?]+|…)[\"')\]]*(?=\s|$)")
_ABBREVIATIONS = word_set("mr mrs ms dr prof st vs etc jr sr inc ltd corp dept approx e.g i.e a.m p.m")

# A pause this long between two segments ends a sentence even without punctuation.
SENTENCE_GAP_S = 1.5
# A sentence is cut at a segment boundary once it is this long (unpunctuated text runs on otherwise).
MAX_SENTENCE_WORDS = 60

QUESTION_WORDS = word_set(
    "what why how who whom whose where when which is are am was were do does did can could would will should "
    "shall may might have has isn't aren't wasn't weren't don't doesn't didn't can't couldn't won't wouldn't "
    "shouldn't haven't hasn't"
)

# A small English stop-word list: function words, auxiliaries, pronouns and conversational glue.
STOP_WORDS = word_set(
    """
    a about above after again against all almost also although always am among an and another any anybody
    anyone anything anyway anyways are aren't around as at away back be because been before being below
    between both but by can can't cannot could couldn't did didn't do does doesn't doing don't done down
    during each either else enough even ever every everybody everyone everything few for from further get
    gets getting go goes going gone got gotta gonna had hadn't has hasn't have haven't having he he'd he'll
    he's her here here's hers herself him himself his how how's however i i'd i'll i'm i've if in into is
    isn't it it's its itself just know kind let let's like lot lots made make makes many may maybe me mean
    might mine more most much must mustn't my myself need needs no nobody none nor not nothing now of off
    oh ok okay on once one only or other others otherwise our ours ourselves out over own pretty quite
    rather really right said same say says see seem seems shall shan't she she'd she'll she's should
    shouldn't since so some somebody someone something sort still such sure take than thank thanks that
    that's the their theirs them themselves then there there's these they they'd they'll they're they've
    thing things think this those though through thus to too toward towards uh um under until up upon us
    very via want wanted wants was wasn't way we we'd we'll we're we've well went were weren't what
    what's whatever when when's where where's whether which while who who's whom whose why why's will
    with within without won't would wouldn't yeah yes yet you you'd you'll you're you've your yours
    yourself yourselves hmm erm
    """
)


def normalize(text: str) -> str:
    """One space between words, straight apostrophes, no leading or trailing space."""
    return _SPACES.sub(" ", text.replace("\u2019", "'").replace("\u2018", "'")).strip()


def words(text: str) -> list[str]:
    return WORD_RE.findall(text)


def count_words(text: str) -> int:
    return len(WORD_RE.findall(text))


def ends_sentence(text: str) -> bool:
    """Whether the text ends with sentence punctuation (not an abbreviation's period)."""
    stripped = text.rstrip().rstrip("\"')]")
    return bool(stripped) and (stripped[-1] in ".!?…") and not _is_abbreviation_end(stripped)


def _is_abbreviation_end(text: str) -> bool:
    if not text.endswith("."):
        return False
    last = text[:-1].rsplit(" ", 1)[-1].lower().lstrip("(\"'")
    return last in _ABBREVIATIONS


def is_question(sentence: str) -> bool:
    """Ends with '?', or, where the sentence has no end punctuation at all, starts with a question word."""
    stripped = sentence.rstrip().rstrip("\"')]")
    if not stripped:
        return False
    if stripped[-1] == "?":
        return True
    if stripped[-1] in ".!…":
        return False
    first = WORD_RE.search(stripped)
    return first is not None and first.group().lower() in QUESTION_WORDS


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    start: float
    end: float
    speaker: str | None
    segments: tuple[int, ...]


@dataclass(slots=True)
class _Piece:
    text: str
    start: float
    end: float
    speaker: str | None
    segment: int
    closed: bool  # ends with sentence punctuation


def ordered(lines: list[TranscriptLine]) -> list[TranscriptLine]:
    """Lines in time order (stable for equal starts), without empty texts."""
    return sorted((ln for ln in lines if ln.text.strip()), key=lambda ln: (ln.start, ln.index))


def _pieces(line: TranscriptLine, text: str) -> list[_Piece]:
    """Cut one segment's text at sentence ends, interpolating times by character position."""
    start, end = float(line.start), max(float(line.start), float(line.end))
    span, length = end - start, max(1, len(text))
    cuts: list[int] = []
    for match in _SENTENCE_END.finditer(text):
        stop = match.end()
        if not _is_abbreviation_end(text[:stop].rstrip("\"')]")):
            cuts.append(stop)
    out: list[_Piece] = []
    begin = 0
    for stop in [*cuts, len(text)]:
        piece = text[begin:stop].strip()
        if piece:
            lead = len(text[begin:stop]) - len(text[begin:stop].lstrip())
            out.append(
                _Piece(
                    text=piece,
                    start=start + span * (begin + lead) / length,
                    end=start + span * stop / length,
                    speaker=line.speaker,
                    segment=line.index,
                    closed=stop in cuts,
                )
            )
        begin = stop
    return out


def is_punctuated(lines: list[TranscriptLine]) -> bool:
    """Whether the recognizer punctuated the transcript (Whisper does; some engines emit bare lowercase)."""
    texts = [ln.text for ln in lines if ln.text.strip()]
    if not texts:
        return True
    with_end = sum(1 for t in texts if any(c in t for c in ".!?"))
    return with_end >= 0.2 * len(texts)


def split_sentences(lines: list[TranscriptLine]) -> list[Sentence]:
    """The transcript as sentences, each with its time span, speaker and source segment indexes.

    A sentence runs on over segment boundaries while the text has no end punctuation, except at a speaker
    change, a pause of SENTENCE_GAP_S or more, or MAX_SENTENCE_WORDS. In an unpunctuated transcript every
    segment boundary ends a sentence.
    """
    lines = ordered(lines)
    punctuated = is_punctuated(lines)
    sentences: list[Sentence] = []
    current: list[_Piece] = []
    current_words = 0

    def flush() -> None:
        nonlocal current, current_words
        if current:
            sentences.append(
                Sentence(
                    text=" ".join(p.text for p in current),
                    start=round(current[0].start, 3),
                    end=round(current[-1].end, 3),
                    speaker=current[0].speaker,
                    segments=tuple(dict.fromkeys(p.segment for p in current)),
                )
            )
        current, current_words = [], 0

    for line in lines:
        text = normalize(line.text)
        if current and (
            not punctuated
            or line.speaker != current[-1].speaker
            or line.start - current[-1].end >= SENTENCE_GAP_S
            or current_words >= MAX_SENTENCE_WORDS
        ):
            flush()
        for piece in _pieces(line, text):
            current.append(piece)
            current_words += count_words(piece.text)
            if piece.closed:
                flush()
    flush()
    return sentences


def speech_spans(lines: list[TranscriptLine], limit: float | None = None) -> list[tuple[float, float]]:
    """The union of the segments' time spans, as sorted disjoint intervals (clipped to [0, limit])."""
    return union_of_spans(((float(ln.start), float(ln.end)) for ln in lines), limit)


def union_of_spans(spans: Iterable[tuple[float, float]], limit: float | None = None) -> list[tuple[float, float]]:
    """Time spans as sorted disjoint intervals (clipped to [0, limit]); empty ones dropped."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted((max(0.0, s), max(0.0, e)) for s, e in spans if e > s and e > 0):
        if limit is not None:
            start, end = min(start, limit), min(end, limit)
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
