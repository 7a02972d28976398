"""Refinement: a readable copy of the transcript, in paragraphs that keep their place in the audio.

The raw transcript is never changed; this builds a new text:
- filler words removed (the shared detector in `fillers`), per segment;
- repeated words and short phrases collapsed ("the the" -> "the", "I think I think" -> "I think"),
  keeping doubles that are grammatical or emphatic ("that that", "had had", "no no", "very very");
- spacing, punctuation and capitalization tidied; a paragraph always ends with end punctuation, and in
  a transcript without punctuation every segment is closed as a sentence;
- a new paragraph at a pause of `pause_s` or more, at a change of speaker, and once a paragraph reaches
  `max_words` (at a sentence end if one comes within half as many words again, else at the next segment).
"""

import re

from voxledger.contracts.insights import RefinedParagraph, Refinement, TranscriptLine

from .fillers import strip_fillers
from .text import count_words, ends_sentence, is_punctuated, is_question, normalize, ordered, word_set

PAUSE_S = 2.0
MAX_WORDS = 120

_WORD = r"[A-Za-z0-9]+(?:'[A-Za-z]+)?"
# One to three words, then the same words again (case-insensitive), optionally after a comma.
_REPEAT = re.compile(rf"\b({_WORD}(?:\s+{_WORD}){{0,2}})(?:,?\s+\1\b)+", re.IGNORECASE)
# Single words whose doubling is grammatical or deliberate emphasis.
_KEEP_DOUBLE = word_set("that had is do does did no yes yeah bye ha very really so now okay ok well")
_LONE_I = re.compile(r"(?<![\w'.])i(?=(?:'(?:m|ll|ve|d|s))?(?![\w.]))")
_SENTENCE_START = re.compile(r"(^|[.!?…][\"')\]]*\s+)([\"'(\[]?)([a-z])")
_ABBREVIATION_BEFORE = re.compile(r"\b(?:mr|mrs|ms|dr|prof|st|vs|etc|e\.g|i\.e)\.\s+$", re.IGNORECASE)


def _collapse_repeats(text: str) -> tuple[str, int]:
    removed = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal removed
        unit = match.group(1)
        unit_words = len(unit.split())
        if unit_words == 1 and unit.lower() in _KEEP_DOUBLE:
            return match.group(0)
        removed += len(match.group(0).replace(",", " ").split()) // unit_words - 1
        return unit

    return _REPEAT.sub(replace, text), removed


def _tidy(text: str) -> str:
    """Spacing, punctuation and capitalization of one paragraph."""
    text = normalize(text)
    text = re.sub(r"\s+([,.!?;:…])", r"\1", text)
    text = re.sub(r",+\s*([.!?])", r"\1", text)  # ",." -> "."
    text = re.sub(r"([.!?]),+", r"\1", text)  # ".," -> "."
    text = re.sub(r",{2,}", ",", text)
    text = re.sub(r"([,;:])(?=[A-Za-z])", r"\1 ", text)
    text = re.sub(r"^[\s,;:]+", "", text)
    text = _LONE_I.sub("I", text)

    def capitalize(match: re.Match[str]) -> str:
        if match.group(1) and _ABBREVIATION_BEFORE.search(text[: match.start() + len(match.group(1))]):
            return match.group(0)
        return match.group(1) + match.group(2) + match.group(3).upper()

    text = _SENTENCE_START.sub(capitalize, text)
    if text and not ends_sentence(text):
        text = text.rstrip(",;:- ")
        last_sentence = re.split(r"(?<=[.!?])\s+", text)[-1]
        text += "?" if is_question(last_sentence) else "."
    return text


def refine(lines: list[TranscriptLine], *, pause_s: float = PAUSE_S, max_words: int = MAX_WORDS) -> Refinement:
    groups: list[list[tuple[TranscriptLine, str]]] = []
    fillers_removed = 0
    words = 0
    previous: TranscriptLine | None = None
    lines = ordered(lines)
    # Bare lowercase output from some recognizers: every segment is taken as a sentence of its own.
    close_segments = not is_punctuated(lines)
    for line in lines:
        cleaned, removed = strip_fillers(normalize(line.text))
        fillers_removed += removed
        if close_segments and cleaned and not ends_sentence(cleaned):
            cleaned += "?" if is_question(cleaned) else "."
        new_paragraph = (
            previous is None
            or line.start - previous.end >= pause_s
            or line.speaker != previous.speaker
            or (words >= max_words and ends_sentence(groups[-1][-1][1] or previous.text))
            or words >= max_words * 1.5
        )
        if new_paragraph:
            groups.append([])
            words = 0
        groups[-1].append((line, cleaned))
        words += count_words(cleaned)
        previous = line

    paragraphs: list[RefinedParagraph] = []
    repeats_removed = 0
    for group in groups:
        joined = " ".join(text for _, text in group if text)
        collapsed, repeats = _collapse_repeats(joined)
        repeats_removed += repeats
        text = _tidy(collapsed)
        if not text:
            continue  # nothing but fillers
        paragraphs.append(
            RefinedParagraph(
                start=float(group[0][0].start),
                end=float(max(ln.end for ln, _ in group)),
                text=text,
                source_segments=[ln.index for ln, _ in group],
            )
        )
    return Refinement(
        text="\n\n".join(p.text for p in paragraphs),
        paragraphs=paragraphs,
        fillers_removed=fillers_removed,
        repeats_removed=repeats_removed,
    )
