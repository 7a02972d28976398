"""An optional LLM engine over any OpenAI-compatible chat-completions endpoint.

Output must be JSON matching the insight's msgspec type, within bounds: times inside the transcript,
segment references to its segments, texts and lists of bounded length. Anything else is InvalidOutput,
and the caller falls back to the built-in engine. Each request caps the model's output (`max_tokens`).
"""

import math
from collections.abc import Iterable

import httpx
import msgspec

from voxledger.contracts.insights import ActionItems, InsightKind, InsightPayload, Refinement, Summary, TranscriptLine

PAYLOAD_TYPES: dict[str, type] = {"summary": Summary, "action_items": ActionItems, "refinement": Refinement}

INSTRUCTIONS = {
    "summary": (
        'Summarize the meeting transcript. Reply with JSON only: {"text": str, "points": [{"text": str, '
        '"start": float, "end": float, "score": float}], "keywords": [str]}. Times are seconds from the '
        "[start-end] marks of the lines the point comes from."
    ),
    "action_items": (
        'List the action items (commitments and requests). Reply with JSON only: {"items": [{"text": str, '
        '"kind": "commitment" | "request", "assignee": str | null, "due": str | null, "start": float, '
        '"end": float}]}. Times come from the [start-end] marks.'
    ),
    "refinement": (
        "Rewrite the transcript with clean punctuation and capitalization, without filler words or "
        'repeated words, in paragraphs. Reply with JSON only: {"text": str, "paragraphs": [{"start": float, '
        '"end": float, "text": str, "source_segments": [int]}], "fillers_removed": int, "repeats_removed": int}.'
    ),
}


class Unavailable(Exception):
    """A transient failure: network, timeout, 5xx or 429. Worth a retry."""


class InvalidOutput(Exception):
    """The model answered, but not with the structure asked for."""


MAX_ITEMS = 100  # points, action items, keywords
MAX_LINE_CHARS = 1000  # a point, an action item, a paragraph's share of the transcript aside
MAX_LABEL_CHARS = 200  # a keyword, an assignee, a due date
MAX_SUMMARY_CHARS = 5000
TIME_SLACK_S = 1.0  # rounding in the [start-end] marks the model copies


def check_bounds(payload: InsightPayload, lines: list[TranscriptLine]) -> None:
    """InvalidOutput unless every time lies within the transcript, every segment reference names one of its
    segments, and every text and list is of bounded length (a refinement: about the transcript's own)."""
    duration = max((ln.end for ln in lines), default=0.0) + TIME_SLACK_S
    transcript_chars = sum(len(ln.text) + 1 for ln in lines)
    if isinstance(payload, Summary):
        _texts([payload.text], MAX_SUMMARY_CHARS)
        _texts([p.text for p in payload.points], MAX_LINE_CHARS)
        _texts(payload.keywords, MAX_LABEL_CHARS)
        _times([(p.start, p.end) for p in payload.points], duration)
        _count(len(payload.points) + len(payload.keywords), 2 * MAX_ITEMS)
        if not all(math.isfinite(p.score) for p in payload.points):
            raise InvalidOutput("a point's score is not a finite number")
    elif isinstance(payload, ActionItems):
        _count(len(payload.items), MAX_ITEMS)
        _texts([i.text for i in payload.items], MAX_LINE_CHARS)
        _texts([x for i in payload.items for x in (i.assignee, i.due) if x is not None], MAX_LABEL_CHARS)
        _times([(i.start, i.end) for i in payload.items], duration)
    elif isinstance(payload, Refinement):
        bound = 2 * transcript_chars + MAX_LINE_CHARS
        _count(len(payload.paragraphs), max(len(lines), 1))
        _texts([payload.text, "".join(p.text for p in payload.paragraphs)], bound)
        _times([(p.start, p.end) for p in payload.paragraphs], duration)
        known = {ln.index for ln in lines}
        if unknown := {i for p in payload.paragraphs for i in p.source_segments} - known:
            raise InvalidOutput(f"{len(unknown)} source segment(s) not in the transcript")
        if min(payload.fillers_removed, payload.repeats_removed) < 0:
            raise InvalidOutput("a negative count of removed words")


def _count(n: int, limit: int) -> None:
    if n > limit:
        raise InvalidOutput(f"{n} items, more than {limit}")


def _texts(texts: Iterable[str], limit: int) -> None:
    if any(len(t) > limit for t in texts):
        raise InvalidOutput(f"a text longer than {limit} characters")


def _times(spans: Iterable[tuple[float, float]], duration: float) -> None:
    if not all(0 <= start <= end <= duration for start, end in spans):  # NaN compares false: refused too
        raise InvalidOutput(f"a time outside the transcript's 0-{duration:.1f} s, or an end before its start")


class LlmEngine:
    kinds: frozenset[str] = frozenset(PAYLOAD_TYPES)

    def __init__(self, url: str, model: str, api_key: str, timeout_s: float, max_tokens: int):
        self.name = f"llm:{model}"
        self._model, self._max_tokens = model, max_tokens
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, timeout=timeout_s)

    async def run(self, kind: InsightKind, lines: list[TranscriptLine]) -> InsightPayload:
        transcript = "\n".join(f"[{ln.start:.2f}-{ln.end:.2f}] #{ln.index} {ln.text}" for ln in lines)
        request = {
            "model": self._model,
            "temperature": 0,
            "max_tokens": self._max_tokens,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": INSTRUCTIONS[kind]},
                {"role": "user", "content": transcript},
            ],
        }
        try:
            response = await self._client.post("/chat/completions", json=request)
        except httpx.HTTPError as err:
            raise Unavailable(f"{type(err).__name__}: {err}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise Unavailable(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise InvalidOutput(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
            data = msgspec.json.decode(content)
            payload: InsightPayload = msgspec.convert({**data, "kind": kind}, PAYLOAD_TYPES[kind])
        except (KeyError, IndexError, TypeError, ValueError, msgspec.ValidationError) as err:
            raise InvalidOutput(f"{type(err).__name__}: {err}") from None
        check_bounds(payload, lines)
        return payload

    async def close(self) -> None:
        await self._client.aclose()
