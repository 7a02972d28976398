"""OpenAI's audio API over voxledger's jobs: its form, its model names, its response and error shapes. Pure.

A request on these routes is an ordinary job; this module only translates between OpenAI's vocabulary and
voxledger's (https://platform.openai.com/docs/api-reference/audio).
"""

import zlib
from collections.abc import Sequence
from typing import Any, Literal, cast

import msgspec

from voxledger.contracts.events import Segment, Task, TranscriptionOptions
from voxledger.contracts.readmodels import JobRow
from voxledger.gateway.domain.errors import Malformed, Unacceptable
from voxledger.gateway.domain.models import ModelCatalog
from voxledger.gateway.domain.options import job_options
from voxledger.gateway.domain.transcripts import Cue, timed_cues
from voxledger.gateway.domain.validation import check_text

ResponseFormat = Literal["json", "text", "srt", "verbose_json", "vtt", "diarized_json"]
RESPONSE_FORMATS: tuple[str, ...] = ResponseFormat.__args__  # type: ignore[attr-defined]
GRANULARITIES = ("word", "segment")
# Names OpenAI clients send: they mean "transcribe this", so they get the deployment's default model.
OPENAI_MODELS = ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-transcribe-diarize")
OWNER = "voxledger"
UNKNOWN_SPEAKER = "?"  # a stretch no speaker turn covers, as TXT shows it
FRAMES_PER_S = 100  # whisper's `seek` counts 10 ms mel frames


class OpenAIRequest(msgspec.Struct, kw_only=True):
    """A checked request: the job's options and how to answer."""

    options: TranscriptionOptions
    response_format: ResponseFormat
    stream: bool
    words: bool  # `timestamp_granularities[]` holds `word`
    segments: bool  # verbose_json lists segments: unless only `word` was asked for


def model_name(catalog: ModelCatalog, model: str | None) -> str | None:
    """An OpenAI model name is the default model (None); a served voxledger model is itself; else unknown_model."""
    if model is not None and model.strip() in OPENAI_MODELS:
        return None
    return catalog.check(model)


def _granularities(values: Sequence[str]) -> set[str]:
    asked = {check_text(v, "timestamp_granularities[]", 16) for v in values}
    if unknown := asked - set(GRANULARITIES):
        raise Malformed(
            "invalid_field", f"unknown timestamp granularity {sorted(unknown)[0]!r}", "timestamp_granularities[]"
        )
    return asked


def _response_format(fields: dict[str, str], task: Task) -> ResponseFormat:
    response_format = fields.get("response_format") or "json"
    if response_format not in RESPONSE_FORMATS:
        detail = f"response_format must be one of {', '.join(RESPONSE_FORMATS)}"
        raise Malformed("invalid_response_format", detail, "response_format")
    if response_format == "diarized_json" and task == "translate":
        detail = "diarized_json is for transcriptions; a translation answers json, text, srt, verbose_json or vtt"
        raise Malformed("invalid_response_format", detail, "response_format")
    return cast(ResponseFormat, response_format)


def _speakers(fields: dict[str, str], response_format: ResponseFormat) -> tuple[str | None, ...]:
    """`speakers`, `min_speakers`, `max_speakers`: diarized_json diarizes (auto unless the extras say how many)."""
    if response_format != "diarized_json":
        return (None, None, None)
    if fields.get("speakers") == "off":
        raise Unacceptable("invalid_speakers", "diarized_json needs speakers: leave out `speakers=off`", "speakers")
    return (fields.get("speakers") or "auto", fields.get("min_speakers"), fields.get("max_speakers"))


def parse_request(
    catalog: ModelCatalog, fields: dict[str, str], granularities: Sequence[str], task: Task, stream: bool
) -> OpenAIRequest:
    """OpenAI's form fields (unknown ones are ignored, as new OpenAI options appear) as a job and an answer."""
    response_format = _response_format(fields, task)
    asked = _granularities(granularities)
    speakers, min_speakers, max_speakers = _speakers(fields, response_format)
    if asked and response_format != "verbose_json":
        raise Malformed(
            "invalid_field", "timestamp_granularities[] needs response_format verbose_json", "timestamp_granularities[]"
        )
    options = job_options(
        catalog,
        model_name(catalog, fields.get("model")),
        None if task == "translate" else (fields.get("language") or None),  # a translation is into English
        task,
        prompt=fields.get("prompt"),
        temperature=fields.get("temperature"),
        priority=fields.get("priority") or None,  # voxledger's own field: OpenAI clients send it as an extra
        word_timestamps="word" in asked or response_format == "diarized_json",  # turns split between words
        speakers=speakers,
        min_speakers=min_speakers,
        max_speakers=max_speakers,
    )
    return OpenAIRequest(
        options=options,
        response_format=response_format,
        stream=stream,
        words="word" in asked,
        segments=not asked or "segment" in asked,
    )


def compression_ratio(text: str) -> float:
    """Whisper's measure of repetition: the text's bytes over their zlib-compressed length."""
    data = text.encode()
    return round(len(data) / len(zlib.compress(data)), 4) if data else 0.0


def segment_body(segment: Segment, temperature: float) -> dict[str, Any]:
    """A segment in verbose_json's shape. Token ids are not kept by voxledger, so `tokens` is empty."""
    return {
        "id": segment.index,
        "seek": round(segment.start * FRAMES_PER_S),
        "start": segment.start,
        "end": segment.end,
        "text": segment.text,
        "tokens": [],
        "temperature": temperature,
        "avg_logprob": segment.avg_logprob,
        "compression_ratio": compression_ratio(segment.text),
        "no_speech_prob": segment.no_speech_prob,
    }


def verbose_body(request: OpenAIRequest, job: JobRow, segments: Sequence[Segment]) -> dict[str, Any]:
    """verbose_json: task, language, duration, text, segments and words as asked, and what voxledger adds."""
    temperature = request.options.temperature or 0.0
    body: dict[str, Any] = {
        "task": request.options.task,
        "language": job.language,
        "duration": job.duration_s,
        "text": transcript_text(segments),
        "usage": {"type": "duration", "seconds": job.duration_s},
        "language_probability": job.language_probability,
    }
    if request.segments:
        body["segments"] = [segment_body(s, temperature) for s in segments]
    if request.words:
        body["words"] = [{"word": w.word, "start": w.start, "end": w.end} for s in segments for w in s.words or ()]
    return body


def transcript_text(segments: Sequence[Segment]) -> str:
    return " ".join(s.text for s in segments if s.text)


def diarized_body(job: JobRow, segments: Sequence[Cue]) -> dict[str, Any]:
    """diarized_json: the text, and a segment per speaker turn, each with voxledger's label (or given name)."""
    cues = timed_cues(segments)
    return {
        "task": "transcribe",
        "duration": job.duration_s,
        "text": " ".join(cue.text for cue in cues),
        "segments": [
            {
                "type": "transcript.text.segment",
                "id": f"seg_{n}",
                "start": cue.start,
                "end": cue.end,
                "text": cue.text,
                "speaker": cue.speaker or UNKNOWN_SPEAKER,
            }
            for n, cue in enumerate(cues)
        ],
        "usage": {"type": "duration", "seconds": job.duration_s},
    }


# How a job that did not complete answers: the client's file is a 400, a cancel a 409, the rest the server's.
CLIENT_FAILURES = frozenset(
    {
        "audio_empty",
        "audio_truncated",
        "audio_corrupt",
        "audio_undecodable",
        "audio_too_long",
        "no_audio_stream",
        "unsupported_audio_format",
        "unsupported_audio_codec",
        "unsupported_audio_parameters",
    }
)


def failure_status(code: str) -> int:
    if code in CLIENT_FAILURES:
        return 400
    if code in ("job_cancelled", "recording_deleted"):
        return 409
    return 503 if code == "model_unavailable" else 500


def error_type(status: int) -> str:
    """OpenAI's error `type` for a status."""
    if status == 401:
        return "authentication_error"
    if status == 429:
        return "rate_limit_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def error_body(status: int, code: str, message: str | None, param: str | None) -> dict[str, Any]:
    """OpenAI's `error` object; `code` is voxledger's stable code."""
    return {"message": message or code, "type": error_type(status), "param": param, "code": code}


def model_object(name: str, created: int) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": created, "owned_by": OWNER}
