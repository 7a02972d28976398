"""An optional LLM engine over any OpenAI-compatible chat-completions endpoint.

Output must be JSON matching the insight's msgspec type; anything else is
InvalidOutput, and the caller falls back to the built-in engine.
"""

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


class LlmEngine:
    kinds: frozenset[str] = frozenset(PAYLOAD_TYPES)

    def __init__(self, url: str, model: str, api_key: str, timeout_s: float):
        self.name = f"llm:{model}"
        self._model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, timeout=timeout_s)

    async def run(self, kind: InsightKind, lines: list[TranscriptLine]) -> InsightPayload:
        transcript = "\n".join(f"[{ln.start:.2f}-{ln.end:.2f}] #{ln.index} {ln.text}" for ln in lines)
        request = {
            "model": self._model,
            "temperature": 0,
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
            return msgspec.convert({**data, "kind": kind}, PAYLOAD_TYPES[kind])
        except (KeyError, IndexError, TypeError, ValueError, msgspec.ValidationError) as err:
            raise InvalidOutput(f"{type(err).__name__}: {err}") from None

    async def close(self) -> None:
        await self._client.aclose()
