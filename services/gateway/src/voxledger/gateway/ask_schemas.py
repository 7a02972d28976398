"""Request and response bodies of /v1/ask: a question over the tenant's recordings, answered with citations."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from voxledger.gateway.schemas import Links

MAX_QUESTION_CHARS = 512
SearchMode = Literal["keyword", "semantic", "hybrid"]


class AskRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    question: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_QUESTION_CHARS)]
    recording_ids: Annotated[list[str], msgspec.Meta(max_length=100)] | None = None  # only these recordings
    speaker: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None  # a label or a name
    from_: datetime | None = msgspec.field(default=None, name="from")  # recordings created at or after
    to: datetime | None = None  # recordings created before


class Citation(msgspec.Struct, kw_only=True):
    recording_id: str
    job_id: str
    start: float  # seconds: where the quoted passage starts (play from here)
    end: float
    speaker: str | None
    text: str
    score: float  # the passage's cosine similarity to the question
    filename: str
    links: Links


class AskAnswer(msgspec.Struct, kw_only=True):
    answer: str  # the cited passages quoted, or "Not found: ..." when none is about the question
    engine: str  # "extractive": quoted passages, no language model
    found: bool
    citations: list[Citation]
