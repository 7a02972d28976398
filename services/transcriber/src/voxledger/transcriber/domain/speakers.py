"""Speaker turns from the diarization models' outputs: pure functions, no model and no IO.

The route: the segmentation model scores each frame (speech, overlapped speech); speech regions are cut into
short windows; each window gets a speaker embedding and a cluster label; the labels become turns, and where the
segmentation hears two voices at once the nearest other speaker is added for that stretch.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Span = tuple[float, float]


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: str  # S1, S2, ... in order of first appearance


@dataclass(frozen=True)
class FrameGrid:
    """Where the segmentation model's frames lie: frame i is centred at offset + i * step seconds."""

    step: float
    offset: float

    def time(self, index: int) -> float:
        return self.offset + index * self.step

    def index(self, seconds: float) -> int:
        return round((seconds - self.offset) / self.step)


MAX_SPEAKERS = 8  # the most an unbounded estimate may find


@dataclass(frozen=True)
class SpeakerCount:
    """What the request allows: an exact count, or bounds on the estimate (None: unbounded)."""

    exact: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None

    def bounds(self, windows: int) -> tuple[int, int]:
        """The range the estimate may take: never more speakers than windows, never fewer than one."""
        lo = self.exact or self.min_speakers or 1
        hi = self.exact or self.max_speakers or MAX_SPEAKERS
        hi = max(1, min(hi, windows))
        return min(lo, hi), hi


def speaker_count(speakers: Literal["auto", "off"] | int, lo: int | None, hi: int | None) -> SpeakerCount | None:
    """A job's diarization request; None when it asks for none."""
    if speakers == "off":
        return None
    if isinstance(speakers, int):
        return SpeakerCount(exact=speakers)
    return SpeakerCount(min_speakers=lo, max_speakers=hi)


def estimate_speakers(embeddings: NDArray[np.float32], lo: int, hi: int, keep: float = 0.05) -> int:
    """How many speakers unit-length embeddings hold, by the largest eigengap of a pruned affinity's Laplacian.

    As 3D-Speaker's spectral clustering for CAM++ (Apache-2.0): each row keeps its `keep` share of strongest
    affinities (at least 6), the rest set to 0; the number of near-zero eigenvalues before the largest gap is the
    number of groups, clamped to [lo, hi]. Robust where a fixed distance threshold is not: the same threshold that splits two similar
    recorded voices splits one synthetic voice in two.
    """
    if lo >= hi:
        return lo
    n = len(embeddings)
    affinity = embeddings @ embeddings.T
    drop = max(0, min(int((1 - keep) * n), n - 6))
    weakest = np.argsort(affinity, axis=1)[:, :drop]
    np.put_along_axis(affinity, weakest, 0.0, axis=1)
    affinity = 0.5 * (affinity + affinity.T)
    np.fill_diagonal(affinity, 0.0)
    laplacian = np.diag(np.abs(affinity).sum(axis=1)) - affinity
    eigenvalues = np.linalg.eigvalsh(laplacian)
    # Search the whole range and clamp after: a gap searched only within tight bounds is meaningless when the
    # true count lies outside them.
    top = max(1, min(max(hi, MAX_SPEAKERS), n - 1))
    found = 1 + int(np.argmax(np.diff(eigenvalues[: top + 1])))
    return min(max(found, lo), hi)


def overlap_add(chunks: NDArray[np.float32], starts: Sequence[int], frames: int) -> NDArray[np.float32]:
    """Average per-chunk frame scores (chunk, frame, class) into one track; `starts` are first frame indices.

    A Hamming window weights each chunk's centre over its edges, where the model sees least context.
    """
    per_chunk = chunks.shape[1]
    weight = np.hamming(per_chunk).astype(np.float32)[:, None]
    total = np.zeros((frames, chunks.shape[2]), dtype=np.float32)
    norm = np.zeros((frames, 1), dtype=np.float32)
    for scores, first in zip(chunks, starts, strict=True):
        n = max(0, min(per_chunk, frames - first))
        total[first : first + n] += scores[:n] * weight[:n]
        norm[first : first + n] += weight[:n]
    return (total / np.maximum(norm, np.float32(1e-6))).astype(np.float32)


def active_spans(
    score: NDArray[np.float32], grid: FrameGrid, threshold: float = 0.5, min_on: float = 0.25, min_off: float = 0.1
) -> list[Span]:
    """Stretches where a frame score is above threshold; gaps up to min_off are bridged, blips under min_on dropped."""
    active = np.concatenate([[False], score > threshold, [False]])
    edges = np.flatnonzero(np.diff(active.astype(np.int8)))
    spans: list[Span] = []
    for first, stop in zip(edges[::2], edges[1::2], strict=True):
        start, end = grid.time(int(first)), grid.time(int(stop))
        if spans and start - spans[-1][1] <= min_off + 1e-9:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return [s for s in spans if s[1] - s[0] >= min_on]


def windows(regions: Sequence[Span], length: float = 1.5, shift: float = 0.75) -> list[Span]:
    """Embedding windows inside each speech region; the last one of a region ends at its end."""
    out: list[Span] = []
    for start, end in regions:
        if end - start <= length:
            out.append((start, end))
            continue
        t = start
        while t + length < end:
            out.append((t, t + length))
            t += shift
        out.append((end - length, end))
    return out


def label_turns(spans: Sequence[Span], labels: Sequence[int]) -> list[Turn]:
    """Turns from labelled windows: each instant belongs to the window whose centre is nearest, so a change of
    speaker falls halfway between the centres of two windows that disagree."""
    centres = np.array([(a + b) / 2 for a, b in spans])
    halfway = (np.sort(centres)[1:] + np.sort(centres)[:-1]) / 2
    cuts = sorted({t for span in spans for t in span} | {float(t) for t in halfway})
    raw: list[tuple[float, float, int]] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        mid = (a + b) / 2
        covering = [i for i, (s, e) in enumerate(spans) if s <= mid < e]
        if not covering:
            continue
        best = min(covering, key=lambda i: abs(centres[i] - mid))
        if raw and raw[-1][2] == labels[best] and abs(raw[-1][1] - a) < 1e-9:
            raw[-1] = (raw[-1][0], b, labels[best])
        else:
            raw.append((a, b, labels[best]))
    return _named(raw)


def add_overlaps(turns: Sequence[Turn], overlaps: Sequence[Span]) -> list[Turn]:
    """Where two voices speak at once, add the nearest other speaker's turn over that stretch."""
    out = list(turns)
    for start, end in overlaps:
        mid = (start + end) / 2
        here = {t.speaker for t in turns if t.start <= mid < t.end}
        others = [t for t in turns if t.speaker not in here]
        if not here or not others:
            continue
        nearest = min(others, key=lambda t: max(t.start - mid, mid - t.end, 0.0))
        out.append(Turn(start, end, nearest.speaker))
    return merge(out)


def merge(turns: Sequence[Turn], gap: float = 0.0) -> list[Turn]:
    """Sort turns and join those of one speaker that touch or overlap (or lie within `gap`)."""
    out: list[Turn] = []
    for turn in sorted(turns, key=lambda t: (t.speaker, t.start)):
        if out and out[-1].speaker == turn.speaker and turn.start - out[-1].end <= gap:
            out[-1] = Turn(out[-1].start, max(out[-1].end, turn.end), turn.speaker)
        else:
            out.append(turn)
    return sorted(out, key=lambda t: (t.start, t.speaker))


def _named(raw: Sequence[tuple[float, float, int]]) -> list[Turn]:
    names: dict[int, str] = {}
    for _, _, label in raw:
        names.setdefault(label, f"S{len(names) + 1}")
    return [Turn(round(a, 3), round(b, 3), names[label]) for a, b, label in raw]
