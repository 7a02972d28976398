"""Transcript renderings: plain text, SubRip and WebVTT. Pure functions over segment rows.

A cue with a `speaker` (a diarized job) carries its name: TXT prefixes each turn, SRT each cue, and WebVTT
uses voice spans (`<v Maria>`).
"""

from collections.abc import Sequence
from typing import NamedTuple, Protocol


class Cue(Protocol):
    start: float
    end: float
    text: str


class TimedCue(NamedTuple):
    start: float
    end: float
    text: str
    speaker: str | None


WIDEN_MS = 500  # how long a cue with no duration is shown, where the time before the next cue allows


def _clock(ms: int, sep: str) -> str:
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _speaker(cue: Cue) -> str | None:
    return getattr(cue, "speaker", None)


def _joined(first: str, second: str) -> str:
    return f"{first} {second}".strip()


def _timed(cues: Sequence[Cue]) -> list[tuple[int, int, str, str | None]]:
    """Milliseconds that never go backwards (even where the model's timestamps overlap) and a text in each cue.

    A cue with no duration (a word the model timed as a point, split off at a change of speaker) is widened
    into the silence around it, never over a neighbour; with none, its words join the cue before it, or the
    one after where that one is the same speaker's and the one before is not (or there is none before).
    """
    spoken = [(_ms(c.start), _ms(c.end), c.text.strip(), _speaker(c)) for c in cues if c.text.strip()]
    out: list[tuple[int, int, str, str | None]] = []
    carried = ""  # words of a cue with no time of its own, for the next cue
    for n, (start, end, text, who) in enumerate(spoken):
        floor = out[-1][1] if out else 0
        start = max(start, floor)
        next_start = spoken[n + 1][0] if n + 1 < len(spoken) else start + WIDEN_MS
        if end <= start:  # forwards into the silence before the next cue, else back into the one after the last
            end = min(start + WIDEN_MS, max(next_start, start))
            start = start if end > start else max(floor, start - WIDEN_MS)
        if end > start:
            out.append((start, end, _joined(carried, text), who))
        elif out and (out[-1][3] == who or spoken[n + 1][3] != who):  # the last cue always has time to widen
            before_start, before_end, before_text, before_who = out[-1]
            out[-1] = (before_start, before_end, _joined(before_text, _joined(carried, text)), before_who)
        else:
            carried = _joined(carried, text)
            continue
        carried = ""
    return out


def timed_cues(cues: Sequence[Cue]) -> list[TimedCue]:
    """The cues as every format shows them: none empty, none without duration, none before the one before."""
    return [TimedCue(start / 1000, end / 1000, text, who) for start, end, text, who in _timed(cues)]


def to_text(cues: Sequence[Cue]) -> str:
    if not any(_speaker(c) for c in cues):
        return "\n".join(c.text.strip() for c in cues if c.text.strip()) + "\n"
    turns: list[tuple[str | None, list[str]]] = []
    for c in cues:
        if not c.text.strip():
            continue
        if turns and turns[-1][0] == _speaker(c):
            turns[-1][1].append(c.text.strip())
        else:
            turns.append((_speaker(c), [c.text.strip()]))
    return "".join(f"{who or '?'}: {' '.join(texts)}\n" for who, texts in turns)


def to_srt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{n}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{f'{who}: ' if who else ''}{text}\n"
        for n, (start, end, text, who) in enumerate(_timed(cues), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{_clock(start, '.')} --> {_clock(end, '.')}\n{f'<v {who}>' if who else ''}{text}\n"
        for start, end, text, who in _timed(cues)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)
