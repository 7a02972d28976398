"""The engine table: every kind, pure and deterministic, and valid payloads for an empty transcript."""

import random

import msgspec
import pytest

from voxledger.contracts.insights import (
    INSIGHT_KINDS,
    ActionItems,
    Analytics,
    InsightPayload,
    Refinement,
    Summary,
    TranscriptLine,
)
from voxledger.postproc.domain.engines import BUILTIN_ENGINES

TYPES = {"refinement": Refinement, "analytics": Analytics, "action_items": ActionItems, "summary": Summary}


def test_every_kind_has_an_engine():
    assert set(BUILTIN_ENGINES) == set(INSIGHT_KINDS)


@pytest.mark.parametrize("kind", INSIGHT_KINDS)
def test_payloads_round_trip_through_the_contract(kind, meeting_lines):
    payload = BUILTIN_ENGINES[kind](meeting_lines, 183.771, ())
    assert isinstance(payload, TYPES[kind])
    decoded = msgspec.json.decode(msgspec.json.encode(payload), type=InsightPayload)
    assert decoded == payload


@pytest.mark.parametrize("kind", INSIGHT_KINDS)
def test_same_input_same_output_whatever_the_order(kind, meeting_lines):
    first = msgspec.json.encode(BUILTIN_ENGINES[kind](meeting_lines, 183.771, ()))
    again = msgspec.json.encode(BUILTIN_ENGINES[kind](list(meeting_lines), 183.771, ()))
    shuffled = list(meeting_lines)
    random.Random(7).shuffle(shuffled)
    assert first == again == msgspec.json.encode(BUILTIN_ENGINES[kind](shuffled, 183.771, ()))


@pytest.mark.parametrize("kind", INSIGHT_KINDS)
@pytest.mark.parametrize(
    "lines",
    [[], [TranscriptLine(index=0, start=0.0, end=0.0, text="   ")], [TranscriptLine(index=0, start=1, end=2, text="")]],
    ids=["no-lines", "blank-zero-length", "empty-text"],
)
@pytest.mark.parametrize("duration", [0.0, 30.0])
def test_an_empty_transcript_gives_valid_empty_payloads(kind, lines, duration):
    payload = BUILTIN_ENGINES[kind](lines, duration, ())
    msgspec.json.decode(msgspec.json.encode(payload), type=InsightPayload)
    match payload:
        case Refinement():
            assert payload.text == "" and payload.paragraphs == []
        case Analytics():
            assert payload.word_count == 0 and payload.wpm == 0.0 and payload.speech_s == 0.0
            assert payload.silence_s == payload.duration_s == max(duration, 0.0)
            assert payload.fillers_per_min == 0.0 and payload.question_count == 0
        case ActionItems():
            assert payload.items == []
        case Summary():
            assert payload.text == "" and payload.points == [] and payload.keywords == []
