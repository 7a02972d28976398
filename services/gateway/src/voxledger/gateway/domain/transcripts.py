"""Transcript renderings: plain text, SubRip and WebVTT. Pure functions over segment rows.

A cue with a `speaker` (a diarized job) carries its name: TXT prefixes each turn, SRT each cue, and WebVTT
uses voice spans (`<v Maria>`).
"""

from collections.abc import Sequence
from typing import Protocol


class Cue(Protocol):
    start: float
    end: float
    text: str


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _speaker(cue: Cue) -> str | None:
    return getattr(cue, "speaker", None)


def _monotonic(cues: Sequence[Cue]) -> list[tuple[float, float, str, str | None]]:
    """Cue times that never go backwards, even where the model's timestamps overlap."""
    out: list[tuple[float, float, str, str | None]] = []
    last_end = 0.0
    for cue in cues:
        start = max(cue.start, last_end)
        end = max(cue.end, start)
        out.append((start, end, cue.text.strip(), _speaker(cue)))
        last_end = end
    return out


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
        for n, (start, end, text, who) in enumerate(_monotonic(cues), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{_clock(start, '.')} --> {_clock(end, '.')}\n{f'<v {who}>' if who else ''}{text}\n"
        for start, end, text, who in _monotonic(cues)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)
