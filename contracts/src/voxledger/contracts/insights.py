"""Insight payloads: what post-processing produces from a finished transcript.

Each kind is a tagged Struct (tag field `kind`), carried by InsightReady and served by the API.
Times are seconds from the start of the recording, so every result links back to the audio.
"""

from typing import Literal

import msgspec

InsightKind = Literal["refinement", "analytics", "action_items", "summary"]
INSIGHT_KINDS: tuple[InsightKind, ...] = ("refinement", "analytics", "action_items", "summary")


class TranscriptLine(msgspec.Struct, kw_only=True):
    """One transcript segment, as post-processing reads it."""

    index: int
    start: float
    end: float
    text: str
    speaker: str | None = None


class RefinedParagraph(msgspec.Struct, kw_only=True):
    start: float
    end: float
    text: str
    source_segments: list[int]


class Refinement(msgspec.Struct, kw_only=True, tag_field="kind", tag="refinement"):
    text: str
    paragraphs: list[RefinedParagraph]
    fillers_removed: int
    repeats_removed: int


class PaceWindow(msgspec.Struct, kw_only=True):
    start: float
    end: float
    words: int
    wpm: float


class SpeakerStats(msgspec.Struct, kw_only=True):
    speaker: str
    talk_time_s: float
    turns: int
    words: int
    # Newer figures, zero in payloads made before them.
    share: float = 0.0  # of all speakers' talk time
    wpm: float = 0.0  # words per minute of the speaker's own talk time
    longest_monologue_s: float = 0.0
    interruptions: int = 0  # turns begun while another speaker was still speaking
    questions: int = 0


class Analytics(msgspec.Struct, kw_only=True, tag_field="kind", tag="analytics"):
    duration_s: float
    speech_s: float
    silence_s: float
    word_count: int
    wpm: float  # words per minute of speech time
    pace: list[PaceWindow]
    fillers: dict[str, int]
    filler_count: int
    fillers_per_min: float
    longest_monologue_s: float
    longest_monologue_start: float
    question_count: int
    speakers: list[SpeakerStats]


ActionItemKind = Literal["commitment", "request"]


class ActionItem(msgspec.Struct, kw_only=True):
    text: str
    kind: ActionItemKind
    assignee: str | None
    due: str | None
    start: float
    end: float


class ActionItems(msgspec.Struct, kw_only=True, tag_field="kind", tag="action_items"):
    items: list[ActionItem]


class KeyPoint(msgspec.Struct, kw_only=True):
    text: str
    start: float
    end: float
    score: float


class Summary(msgspec.Struct, kw_only=True, tag_field="kind", tag="summary"):
    text: str
    points: list[KeyPoint]
    keywords: list[str]


InsightPayload = Refinement | Analytics | ActionItems | Summary
