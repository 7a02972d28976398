"""The built-in insight engines behind one signature, so the service can run every kind the same way.

Each engine is pure, offline and deterministic: `(lines, duration_s, turns) -> payload`, where `turns` are a
diarized job's speaker turns with their display names (empty without diarization).
"""

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from voxledger.contracts.insights import (
    ActionItems,
    Analytics,
    InsightKind,
    InsightPayload,
    Refinement,
    Summary,
    TranscriptLine,
)
from voxledger.contracts.speakers import Turn

from .action_items import extract_action_items
from .analytics import analyze
from .refinement import refine
from .summary import summarize

Engine = Callable[[list[TranscriptLine], float, Sequence[Turn]], InsightPayload]


def refinement_engine(lines: list[TranscriptLine], duration_s: float, turns: Sequence[Turn]) -> Refinement:
    return refine(lines)


def analytics_engine(lines: list[TranscriptLine], duration_s: float, turns: Sequence[Turn]) -> Analytics:
    return analyze(lines, duration_s, turns=turns)


def action_items_engine(lines: list[TranscriptLine], duration_s: float, turns: Sequence[Turn]) -> ActionItems:
    return extract_action_items(lines)


def summary_engine(lines: list[TranscriptLine], duration_s: float, turns: Sequence[Turn]) -> Summary:
    return summarize(lines)


BUILTIN_ENGINES: Mapping[InsightKind, Engine] = MappingProxyType(
    {
        "refinement": refinement_engine,
        "analytics": analytics_engine,
        "action_items": action_items_engine,
        "summary": summary_engine,
    }
)
