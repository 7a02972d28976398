"""Chunks of a long recording: where to cut it, and how the chunks' segments are stitched back. Pure.

Each chunk is transcribed over its span and on into the next one (the overlap), so a word at a cut is
heard whole by the left chunk. At each cut the left chunk keeps its words whose midpoint is before the
cut and the right chunk its words from the cut on: every word is kept exactly once. A chunk's segments
are rebuilt from the words it keeps.
"""

import itertools
from collections.abc import Sequence

import msgspec

from voxledger.contracts.events import ChunkSpan, Segment, Word


def plan_spans(duration_s: float, cuts: Sequence[float]) -> list[ChunkSpan]:
    """Chunks between consecutive cuts, covering [0, duration_s] without gaps."""
    edges = [0.0, *sorted(c for c in cuts if 0.0 < c < duration_s), duration_s]
    return [
        ChunkSpan(index=i, start_s=round(a, 3), end_s=round(b, 3)) for i, (a, b) in enumerate(itertools.pairwise(edges))
    ]


def nominal_cuts(duration_s: float, chunk_s: float) -> list[float]:
    """Where cuts are looked for: the recording split into the number of equal parts closest to one per
    `chunk_s` (at least one). Equal parts finish together; a short tail as a chunk of its own would add a
    seam, and joined to the chunk before it, would make that chunk the last to finish."""
    parts = max(int(duration_s / chunk_s + 0.5), 1)  # half up, not to even
    return [round(duration_s * i / parts, 3) for i in range(1, parts)]


def quietest(energies: Sequence[float], first_s: float, frame_s: float) -> float:
    """The middle of the quietest frame of a window that starts at `first_s`; ties go to the earliest."""
    best = min(range(len(energies)), key=energies.__getitem__)
    return first_s + (best + 0.5) * frame_s


def _midpoint(start: float, end: float) -> float:
    return (start + end) / 2


def trim(segments: Sequence[Segment], span: ChunkSpan, last: bool, keep_words: bool) -> list[Segment]:
    """A chunk's segments cut to its own span: words by midpoint, segments without words by theirs.

    The first chunk keeps what lies before its start (nothing should) and the last what lies after its
    end, so no word near the recording's edges is lost to rounding. Indices are the caller's to set."""
    low = span.start_s if span.index > 0 else float("-inf")
    high = span.end_s if not last else float("inf")
    kept: list[Segment] = []
    for seg in segments:
        if not seg.words:
            if low <= _midpoint(seg.start, seg.end) < high:
                kept.append(_rebuilt(seg, None, seg.text, seg.start, seg.end, keep_words))
            continue
        words = [w for w in seg.words if low <= _midpoint(w.start, w.end) < high]
        if words:
            text = "".join(w.word for w in words).strip()
            kept.append(_rebuilt(seg, words, text, words[0].start, words[-1].end, keep_words))
    return kept


def _rebuilt(seg: Segment, words: list[Word] | None, text: str, start: float, end: float, keep_words: bool) -> Segment:
    return Segment(
        index=seg.index,
        start=start,
        end=end,
        text=text,
        avg_logprob=seg.avg_logprob,
        no_speech_prob=seg.no_speech_prob,
        words=words if keep_words else None,
    )


def numbered(segments: Sequence[Segment], first_index: int) -> list[Segment]:
    """The segments with contiguous indices from `first_index`, in time order."""
    ordered = sorted(segments, key=lambda s: (s.start, s.end))
    return [msgspec.structs.replace(s, index=first_index + i) for i, s in enumerate(ordered)]


def eta_s(duration_s: float, done_audio_s: float, spent_s: float) -> float | None:
    """The remaining audio at the rate the audio done so far took `spent_s`; None before any chunk."""
    if done_audio_s <= 0:
        return None
    return round(max(duration_s - done_audio_s, 0.0) * spent_s / done_audio_s, 1)
