"""The one filler-word detector: refinement removes what it finds, analytics counts it.

Hesitation sounds ("um", "uh", "erm", "hmm" and their spellings) are always fillers. "like" and
"you know" are fillers only where the punctuation sets them off as an aside, which keeps every ordinary
use: "I like pizza", "you know the answer", "it looks like rain" all stay.

- between commas:            "it was, like, fine"  /  "we should, you know, ask"
- opening a sentence:        "Like, we never tested it."  /  "You know, I agree."
- closing a sentence:        "it was late, you know."   ("you know" only)
"""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

FILLER_LABELS = ("um", "uh", "erm", "hmm", "like", "you know")

_HESITATION = re.compile(r"(?<![\w'\-])(?:u+m+|u+h+m+|u+h+|e+r+m+|h+m+)(?![\w'\-])", re.IGNORECASE)
_ASIDE = r"(?:you know|like)"
_BETWEEN_COMMAS = re.compile(rf"(?<=,)\s*({_ASIDE})(?=\s*,)", re.IGNORECASE)
_OPENING = re.compile(rf"(?:^|(?<=[.!?])\s)\s*({_ASIDE})(?=\s*,)", re.IGNORECASE)
_CLOSING = re.compile(r"(?<=,)\s*(you know)(?=\s*(?:[.!?]|$))", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Filler:
    start: int  # character offsets of the filler words in the text (no surrounding punctuation)
    end: int
    label: str


def _hesitation_label(word: str) -> str:
    w = word.lower()
    if w.startswith("h"):
        return "hmm"
    if w.startswith("e"):
        return "erm"
    return "um" if w.endswith("m") else "uh"


def find_fillers(text: str) -> list[Filler]:
    """Filler words in `text`, in order, non-overlapping."""
    found = [Filler(m.start(), m.end(), _hesitation_label(m.group())) for m in _HESITATION.finditer(text)]
    for pattern in (_BETWEEN_COMMAS, _OPENING, _CLOSING):
        found += [Filler(m.start(1), m.end(1), m.group(1).lower()) for m in pattern.finditer(text)]
    found.sort(key=lambda f: (f.start, -f.end))
    out: list[Filler] = []
    for filler in found:
        if not out or filler.start >= out[-1].end:
            out.append(filler)
    return out


def count_fillers(texts: Iterable[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(f.label for f in find_fillers(text))
    return counts


def strip_fillers(text: str) -> tuple[str, int]:
    """`text` without its fillers and the commas that set them off; returns (text, fillers removed).

    "I, uh, think" -> "I think"; "Um, we agreed." -> "we agreed." (capitalization is the caller's job);
    "it was late, you know." -> "it was late."
    """
    fillers = find_fillers(text)
    if not fillers:
        return text, 0
    out: list[str] = []
    pos = 0
    for filler in fillers:
        start, end = filler.start, filler.end
        before = text[pos:start]
        after_match = re.match(r"\s*,", text[end:])
        stripped_before = before.rstrip()
        if stripped_before.endswith(",") and (after_match or re.match(r"\s*(?:[.!?]|$)", text[end:])):
            # ", uh," or ", you know." : drop the leading comma with the filler
            before = stripped_before[:-1]
        if after_match:
            end += after_match.end()  # "Um," / ", like," : the trailing comma goes too
        out.append(before)
        pos = end
    out.append(text[pos:])
    cleaned = re.sub(r"\s{2,}", " ", "".join(out))
    cleaned = re.sub(r"\s+([,.!?;:])", r"\1", cleaned).strip()
    if not any(c.isalnum() for c in cleaned):
        cleaned = ""  # the segment was nothing but fillers ("Hmm.")
    return cleaned, len(fillers)
