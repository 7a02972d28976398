"""A job's options as a client sends them (form fields or a JSON body), each checked: pure, without IO."""

import math
from typing import cast, get_args

from voxledger.contracts.events import Priority, Task, TranscriptionOptions
from voxledger.gateway.domain.errors import Malformed, Unacceptable
from voxledger.gateway.domain.models import ModelCatalog
from voxledger.gateway.domain.speakers import check_speakers
from voxledger.gateway.domain.validation import check_language, check_strings, check_text

# Whisper conditions on at most 224 prompt tokens and drops the rest; these bounds only keep requests small.
MAX_PROMPT_CHARS = 1024
MAX_HOTWORDS_CHARS = 512


def check_temperature(value: float | str | None, field: str = "temperature") -> float | None:
    """A sampling temperature from 0 to 1, from a JSON number or a form field's text; None when not given."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = float(value) if value.isascii() else math.nan
        except ValueError:
            value = math.nan
    if isinstance(value, bool) or not math.isfinite(value):
        raise Malformed("invalid_temperature", "temperature must be a number from 0 to 1", field)
    if not 0 <= value <= 1:
        raise Unacceptable("invalid_temperature", "temperature must be from 0 to 1", field)
    return float(value)


MAX_BATCH_SIZE = 32


def check_batch_size(value: int | str | None, field: str = "batch_size") -> int | None:
    """How many chunks to decode at once, 1 (sequential) to 32, from a JSON number or form text; None: unset."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = int(value) if value.isascii() and value.isdigit() and len(value) <= 3 else -1
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Malformed("invalid_batch_size", f"batch_size must be a whole number from 1 to {MAX_BATCH_SIZE}", field)
    if not 1 <= value <= MAX_BATCH_SIZE:
        raise Unacceptable("invalid_batch_size", f"batch_size must be from 1 to {MAX_BATCH_SIZE}", field)
    return value


PRIORITIES: tuple[str, ...] = get_args(Priority)


def check_priority(value: str | None, field: str = "priority") -> Priority:
    """A job's priority within its tenant: `high`, `normal` (also when not given) or `low`."""
    if value is None or value == "":
        return "normal"
    if value not in PRIORITIES:
        raise Unacceptable("invalid_priority", "priority must be `high`, `normal` or `low`", field)
    return cast(Priority, value)


def _hint(value: str | None, field: str, max_chars: int, *, multiline: bool) -> str | None:
    if value is None or not value.strip():
        return None
    return check_text(value, field, max_chars, multiline=multiline)


def job_options(
    catalog: ModelCatalog,
    model: str | None,
    language: str | None,
    task: str = "transcribe",
    *,
    prompt: str | None = None,
    hotwords: str | None = None,
    temperature: float | str | None = None,
    batch_size: int | str | None = None,
    priority: str | None = None,
    word_timestamps: bool = False,
    vad: bool = False,
    speakers: int | str | None = None,
    min_speakers: int | str | None = None,
    max_speakers: int | str | None = None,
) -> TranscriptionOptions:
    """The options of a job: text, language code, task, decoding hints, and a model this deployment serves."""
    check_strings({"model": model, "language": language, "task": task}, "")
    language = check_language(language)
    if task not in ("transcribe", "translate"):
        raise Malformed("invalid_task", "task must be `transcribe` or `translate`")
    diarize, lo, hi = check_speakers(speakers, min_speakers, max_speakers)
    model = catalog.check(model)
    catalog.check_language(model, language)  # refused here: an English-only model would answer in English
    return TranscriptionOptions(
        model=model,
        language=language,
        task=cast(Task, task),
        word_timestamps=word_timestamps,
        vad=vad,
        prompt=_hint(prompt, "prompt", MAX_PROMPT_CHARS, multiline=True),  # prose: may span lines
        hotwords=_hint(hotwords, "hotwords", MAX_HOTWORDS_CHARS, multiline=False),
        temperature=check_temperature(temperature),
        batch_size=check_batch_size(batch_size),
        priority=check_priority(priority),
        speakers=diarize,
        min_speakers=lo,
        max_speakers=hi,
    )
