"""The LLM engine's answers are held to bounds, not only to their structure."""

import msgspec
import pytest

from voxledger.contracts.insights import ActionItems, Refinement, Summary, TranscriptLine
from voxledger.postproc.adapters.llm import InvalidOutput, check_bounds

LINES = [TranscriptLine(index=i, start=4.0 * i, end=4.0 * i + 3.5, text="we review the budget") for i in range(3)]
POINT = {"text": "budget", "start": 0.0, "end": 4.0, "score": 0.5}
ITEM = {"text": "share notes", "kind": "request", "assignee": "team", "due": None, "start": 4.0, "end": 7.5}
PARAGRAPH = {"start": 0.0, "end": 11.5, "text": "We review the budget.", "source_segments": [0, 1, 2]}


def summary(**changes) -> Summary:
    return msgspec.convert({"text": "ok", "points": [POINT], "keywords": ["budget"], **changes}, Summary)


def items(**changes) -> ActionItems:
    return msgspec.convert({"items": [{**ITEM, **changes}]}, ActionItems)


def refinement(**changes) -> Refinement:
    fields = {"text": "ok", "paragraphs": [{**PARAGRAPH, **changes}], "fillers_removed": 0, "repeats_removed": 0}
    return msgspec.convert(fields, Refinement)


def test_answers_within_bounds_pass():
    for payload in (summary(), items(), refinement()):
        check_bounds(payload, LINES)


@pytest.mark.parametrize(
    "payload",
    [
        summary(points=[{**POINT, "end": 1e9}]),
        summary(points=[{**POINT, "start": -1.0}]),
        summary(points=[{**POINT, "start": 5.0, "end": 2.0}]),
        summary(points=[{**POINT, "score": float("inf")}]),
        summary(text="x" * 100_000),
        summary(keywords=["k"] * 1000),
        items(text="x" * 5000),
        items(assignee="x" * 5000),
        items(end=99.0),
        refinement(source_segments=[0, 9999]),
        refinement(source_segments=[-1]),
        refinement(text="x" * 100_000),
        refinement(end=float("nan")),
    ],
)
def test_an_answer_out_of_bounds_is_invalid_output(payload):
    with pytest.raises(InvalidOutput):
        check_bounds(payload, LINES)
