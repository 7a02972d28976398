"""Fixtures for the built-in insight engines: the scripted meeting and the labeled action-item set."""

import json
from pathlib import Path

import pytest

from voxledger.contracts.insights import TranscriptLine

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "insights"


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(scope="session")
def meeting_timing() -> dict:
    return load("meeting_timing.json")


@pytest.fixture(scope="session")
def meeting_labels() -> dict:
    return load("meeting_labels.json")


@pytest.fixture(scope="session")
def labeled_set() -> list[dict]:
    return load("action_items_labeled.json")["transcripts"]


@pytest.fixture
def meeting_lines() -> list[TranscriptLine]:
    """What the bundled tiny.en model made of meeting.ogg: real Whisper segments, no speakers."""
    return [TranscriptLine(**row) for row in load("meeting_transcript.json")]


@pytest.fixture
def scripted_lines(meeting_timing) -> list[TranscriptLine]:
    """The meeting as its script says it: one segment per sentence, exact times and speakers."""
    return [
        TranscriptLine(index=s["index"], start=s["start"], end=s["end"], text=s["text"], speaker=s["speaker"])
        for s in meeting_timing["sentences"]
    ]
