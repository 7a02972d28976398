"""Batched decoding returns one segment per chunk of up to 30 s; cut them at sentence ends by word times: pure.

Subtitles, the player's highlight and resumption after a crash all want segments of a sentence or so,
not of half a minute, so a chunk is cut after each word that ends a sentence, and a long sentence
at its widest pause once it passes `max_s`.
"""

from collections.abc import Iterator

import msgspec

from voxledger.contracts.events import Word

SENTENCE_ENDS = (".", "?", "!")


class Piece(msgspec.Struct, frozen=True):
    """A run of consecutive words that becomes one segment."""

    start: float
    end: float
    text: str
    words: list[Word]


def sentence_pieces(words: list[Word], max_s: float = 12.0, min_s: float = 1.0) -> Iterator[Piece]:
    """The words cut into pieces that each end a sentence, or are at most about `max_s` long."""
    current: list[Word] = []
    for word in words:
        current.append(word)
        length = word.end - current[0].start
        if word.word.strip().endswith(SENTENCE_ENDS) and length >= min_s:
            yield _piece(current)
            current = []
        elif length > max_s and len(current) > 1:
            cut = _widest_pause(current)
            yield _piece(current[:cut])
            current = current[cut:]
    if current:
        yield _piece(current)


def _widest_pause(words: list[Word]) -> int:
    """The index of the word after the longest silence between two words (later pauses win ties)."""
    gaps = [(words[i].start - words[i - 1].end, i) for i in range(1, len(words))]
    return max(gaps)[1]


def _piece(words: list[Word]) -> Piece:
    return Piece(words[0].start, words[-1].end, "".join(w.word for w in words).strip(), list(words))
