"""How speaker turns read: which label a stretch of time belongs to, and which name a label shows as.

Shared by every reader of SpeakersDiarized and SpeakersNamed (the gateway's transcripts, post-processing's
analytics), so a segment gets the same speaker everywhere.
"""

from collections.abc import Mapping, Sequence

Turn = tuple[float, float, str]  # start, end, label


def speaker_at(start: float, end: float, turns: Sequence[Turn]) -> str | None:
    """The label that overlaps [start, end] most; for a span in a gap between turns, the nearest turn's."""
    if not turns:
        return None
    best = max(turns, key=lambda t: min(end, t[1]) - max(start, t[0]))
    if min(end, best[1]) - max(start, best[0]) > 0:
        return best[2]
    mid = (start + end) / 2
    return min(turns, key=lambda t: max(t[0] - mid, mid - t[1], 0.0))[2]


def resolve(label: str, names: Mapping[str, str]) -> str:
    """A label's display name: a merge maps a label to another label, a rename to a name (cycles stop)."""
    seen = {label}
    while (target := names.get(label)) is not None and target not in seen:
        seen.add(target)
        label = target
    return label
