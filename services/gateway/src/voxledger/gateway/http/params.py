"""Request parameters as the OpenAPI document shows them: as strict as the validation behind them.

Formats, patterns and lengths go in `schema_extra`, so that they are documented but checked by our
own validators (domain/validation.py), which answer with the API's codes (`recording_not_found` for
a malformed id, `invalid_cursor`, `invalid_min_seq`, `invalid_characters`) rather than a generic 400.
"""

from dataclasses import dataclass
from typing import Annotated

from litestar.openapi.spec import Encoding, Example, OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.params import HeaderParameter, Parameter, ParameterKwarg, QueryParameter

from voxledger.gateway.domain.options import MAX_HOTWORDS_CHARS, MAX_PROMPT_CHARS
from voxledger.gateway.domain.pagination import CURSOR_PATTERN
from voxledger.gateway.domain.speakers import SPEAKERS_PATTERN
from voxledger.gateway.domain.validation import (
    LANGUAGE_PATTERN,
    MAX_FILENAME_CHARS,
    MULTILINE_PATTERN,
    SEQ_PATTERN,
    SINGLE_LINE_PATTERN,
    UUID_PATTERN,
)

ID_EXAMPLE = "0190a5b2-7c1e-7d3f-8a4b-5c6d7e8f9012"
_ID_SCHEMA = {"format": "uuid", "pattern": UUID_PATTERN, "min_length": 36, "max_length": 36}


def _id(what: str) -> ParameterKwarg:
    return Parameter(
        description=f"The {what}'s id (a canonical UUID); any other id answers 404",
        schema_extra=_ID_SCHEMA,
        examples=[Example(value=ID_EXAMPLE)],
    )


RecordingId = Annotated[str, _id("recording")]
JobId = Annotated[str, _id("job")]
SessionId = Annotated[str, _id("live session")]
WebhookId = Annotated[str, _id("webhook endpoint")]
DeliveryId = Annotated[str, _id("webhook delivery")]
KeyId = Annotated[str, _id("API key")]
OptionalJobId = Annotated[
    str | None,
    Parameter(
        description="A job of this recording (default: the newest completed one)",
        schema_extra=_ID_SCHEMA,
        examples=[Example(value=ID_EXAMPLE)],
    ),
]
Cursor = Annotated[
    str | None,
    Parameter(
        description="The `next_cursor` of the previous page",
        schema_extra={"pattern": CURSOR_PATTERN, "min_length": 1, "max_length": 64},
    ),
]
# A router-level parameter (routes.py): the reads under that router document it; the consistency hook reads it.
MIN_SEQ = QueryParameter(
    annotation=str | None,
    name="min_seq",
    default=None,
    required=False,
    description="Read your writes: an event sequence (SSE `id`) or an `X-Consistency-Token`; the read waits "
    "up to 2 s for the read models to include it, else answers with `X-Read-Model-Stale: true`",
    schema_extra={"pattern": f"({SEQ_PATTERN})|({UUID_PATTERN})", "max_length": 36},
    examples=[Example(value="42"), Example(value=ID_EXAMPLE)],
)
LastEventId = Annotated[
    str | None,
    HeaderParameter(
        name="Last-Event-ID",
        required=False,
        description="Resume after this event sequence, with no gap and no repeat",
        schema_extra={"pattern": SEQ_PATTERN, "max_length": 18},
        examples=[Example(value="42")],
    ),
]
# The same, for clients that cannot set headers (an EventSource, a curl one-liner).
ResumeAfter = Annotated[
    str | None,
    Parameter(description="Like Last-Event-ID, for clients that cannot set it", schema_extra={"pattern": SEQ_PATTERN}),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="A retry with the same key and body gets the same ids; another body with it is a 409",
        schema_extra={"pattern": SINGLE_LINE_PATTERN, "min_length": 1, "max_length": 255},
        examples=[Example(value="upload-42")],
    ),
]
SpeakerName = Annotated[
    str | None,
    Parameter(
        description="Only segments this speaker speaks in: a label (S1) or a name given to one",
        schema_extra={"pattern": SINGLE_LINE_PATTERN, "min_length": 1, "max_length": 64},
        examples=[Example(value="Maria")],
    ),
]
SearchText = Annotated[
    str,
    Parameter(
        description='Words, "exact phrases", -excluded, or, and prefix* terms',
        schema_extra={"pattern": SINGLE_LINE_PATTERN, "min_length": 1, "max_length": 256},
        examples=[Example(value='"budget review" quart*')],
    ),
]

_FLAG = Schema(type="string", enum=["true", "false", "1", "0", "yes", "no"])  # type: ignore[arg-type]
_PROMPT = Schema(
    type="string",  # type: ignore[arg-type]
    max_length=MAX_PROMPT_CHARS,
    pattern=MULTILINE_PATTERN,
    description="Text to condition the model on (faster-whisper's initial prompt): names, spelling, style",
)
_HOTWORDS = Schema(
    type="string",  # type: ignore[arg-type]
    pattern=SINGLE_LINE_PATTERN,
    max_length=MAX_HOTWORDS_CHARS,
    description="Words to favour throughout the audio",
)
_TEMPERATURE = Schema(
    type="string",  # type: ignore[arg-type]
    pattern=r"^(0(\.[0-9]+)?|1(\.0+)?)$",
    description="Sampling temperature from 0 to 1; 0 or unset: start at 0 and retry hotter where decoding fails",
)
_BATCH_SIZE = Schema(
    type="string",  # type: ignore[arg-type]
    pattern=r"^([1-9]|[12][0-9]|3[0-2])$",
    description="Chunks of audio decoded at once, 1 (sequential) to 32; unset: the transcriber's default (8)",
)
_SPEAKER_BOUND = Schema(
    type="string",  # type: ignore[arg-type]
    pattern=r"^([1-9]|1[0-9]|20)$",
    description="A bound on the estimated number of speakers (1 to 20); alone it implies `speakers=auto`",
)
# What audio_sniff recognises; the part's declared type is not trusted, its bytes are sniffed.
AUDIO_TYPES = "audio/ogg, audio/wav, audio/flac, audio/mpeg, audio/mp4, audio/webm, audio/amr, audio/aiff, audio/x-caf, audio/x-ms-wma"
_PRIORITY = Schema(
    type="string",  # type: ignore[arg-type]
    enum=["high", "normal", "low"],
    description="Order among the tenant's own queued jobs (default normal); tenants take turns regardless",
)
UPLOAD_FORM = Schema(
    type="object",  # type: ignore[arg-type]
    required=["file"],
    properties={
        "file": Schema(
            type="string",  # type: ignore[arg-type]
            format="binary",  # type: ignore[arg-type]
            description=f"The audio (WAV, FLAC, Ogg, MP3, M4A, WebM); its filename is shown, cut to {MAX_FILENAME_CHARS}",
        ),
        "language": Schema(type="string", pattern=LANGUAGE_PATTERN, examples=["en"]),  # type: ignore[arg-type]
        "model": Schema(
            type="string",  # type: ignore[arg-type]
            pattern=SINGLE_LINE_PATTERN,
            max_length=64,
            description="One of GET /v1/models",
            examples=["tiny.en"],
        ),
        "task": Schema(type="string", enum=["transcribe", "translate"]),  # type: ignore[arg-type]
        "transcribe": _FLAG,
        "word_timestamps": _FLAG,
        "vad": _FLAG,
        "prompt": _PROMPT,
        "hotwords": _HOTWORDS,
        "temperature": _TEMPERATURE,
        "batch_size": _BATCH_SIZE,
        "priority": _PRIORITY,
        "speakers": Schema(
            type="string",  # type: ignore[arg-type]
            pattern=SPEAKERS_PATTERN,
            description="Diarization: `auto` (the count estimated), `off` (the default) or an exact count",
        ),
        "min_speakers": _SPEAKER_BOUND,
        "max_speakers": _SPEAKER_BOUND,
    },
    additional_properties=False,
)
# OpenAI's form (https://platform.openai.com/docs/api-reference/audio/createTranscription); `model` may also
# name a served voxledger model. Fields OpenAI adds later are accepted and ignored.
OPENAI_FORM = Schema(
    type="object",  # type: ignore[arg-type]
    required=["file"],
    properties={
        "file": UPLOAD_FORM.properties["file"],  # type: ignore[index]
        "model": Schema(
            type="string",  # type: ignore[arg-type]
            pattern=SINGLE_LINE_PATTERN,
            max_length=64,
            description="`whisper-1` (or another OpenAI name) for the default model, or one of GET /v1/models",
            examples=["whisper-1"],
        ),
        "language": Schema(type="string", pattern=LANGUAGE_PATTERN, examples=["en"]),  # type: ignore[arg-type]
        "prompt": _PROMPT,
        "response_format": Schema(
            type="string",  # type: ignore[arg-type]
            enum=["json", "text", "srt", "verbose_json", "vtt", "diarized_json"],
            description="diarized_json diarizes the job (`speakers`, `min_speakers`, `max_speakers`: auto if unset)",
        ),
        "temperature": _TEMPERATURE,
        "priority": _PRIORITY,  # not OpenAI's: an extra form field (`extra_body` in OpenAI's SDK)
        **{name: UPLOAD_FORM.properties[name] for name in ("speakers", "min_speakers", "max_speakers")},  # type: ignore[index]
        "timestamp_granularities[]": Schema(
            type="array",  # type: ignore[arg-type]
            items=Schema(type="string", enum=["word", "segment"]),  # type: ignore[arg-type]
            description="With verbose_json: `word` adds word timings",
        ),
        "stream": _FLAG,
    },
)


@dataclass
class UploadOperation(Operation):
    """The upload reads its multipart body as a stream, so its form is described here by hand."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={
                "multipart/form-data": OpenAPIMediaType(
                    schema=UPLOAD_FORM, encoding={"file": Encoding(content_type=AUDIO_TYPES)}
                )
            },
            required=True,
            description="The recording and its options",
        )


@dataclass
class OpenAIOperation(Operation):
    """OpenAI's audio routes read their multipart body as a stream too; their form is OpenAI's."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={
                "multipart/form-data": OpenAPIMediaType(
                    schema=OPENAI_FORM, encoding={"file": Encoding(content_type=AUDIO_TYPES)}
                )
            },
            required=True,
            description="The audio and OpenAI's options",
        )


ModelId = Annotated[
    str,
    Parameter(
        description="A served model's name, or an OpenAI model name (`whisper-1`) that stands for the default",
        schema_extra={"pattern": SINGLE_LINE_PATTERN, "min_length": 1, "max_length": 64},
        examples=[Example(value="whisper-1")],
    ),
]
