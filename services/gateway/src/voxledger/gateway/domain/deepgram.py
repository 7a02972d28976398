"""Deepgram's listen API over voxledger's live sessions and jobs: its query parameters, messages and shapes. Pure.

A live socket on /v1/listen is an ordinary live session and a pre-recorded request an ordinary job; this module
only translates between Deepgram's vocabulary (https://developers.deepgram.com/reference/speech-to-text-api)
and voxledger's.
"""

from collections.abc import Mapping
from datetime import datetime

import msgspec

from voxledger.contracts.events import Segment, Word
from voxledger.contracts.live import SAMPLE_RATES, LiveInterim, LiveTurn, segment_confidence
from voxledger.gateway.domain.errors import Malformed
from voxledger.gateway.domain.models import ModelCatalog

# Deepgram's model families mean "transcribe this": they get the deployment's default model.
DEEPGRAM_MODELS = ("nova", "enhanced", "base", "general", "whisper", "phonecall", "meeting")
# Options voxledger cannot honour: asking for them is refused, never silently ignored.
UNSUPPORTED = (
    "callback",
    "redact",
    "search",
    "replace",
    "keywords",
    "keyterm",
    "detect_entities",
    "multichannel",
    "diarize",
    "diarize_model",
    "summarize",
    "topics",
    "intents",
    "sentiment",
)
FALSE = ("false", "0", "no", "")
MIN_ENDPOINTING_S = 0.1
CHANNEL = [0, 1]  # Deepgram's [channel index, channel count]: voxledger hears one channel


class LiveOptions(msgspec.Struct, kw_only=True, frozen=True):
    model: str | None  # None: the default model
    language: str | None
    sample_rate: int
    interim_results: bool
    endpointing_s: float | None  # None: no final ends a turn (endpointing=false)
    utterance_end_s: float | None  # None: no UtteranceEnd messages
    vad_events: bool


class PrerecordedOptions(msgspec.Struct, kw_only=True, frozen=True):
    model: str | None
    language: str | None
    utterances: bool


def _flag(params: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in FALSE:
        return False
    raise Malformed("invalid_field", f"`{name}` must be true or false", name)


def _int(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 6):
        raise Malformed("invalid_field", f"`{name}` must be a whole number", name)
    return int(value)


def model_name(catalog: ModelCatalog, model: str | None) -> str | None:
    """A Deepgram model name (nova-3, base, ...) is the default model; a served voxledger model is itself."""
    if model is not None and model.strip().lower().startswith(DEEPGRAM_MODELS):
        return None
    return catalog.check(model)


def language_code(language: str | None) -> str | None:
    """BCP-47 (`en-US`) to the ISO 639-1 code whisper knows; `multi` (or none) lets the model detect it."""
    if language is None or language.lower() in ("", "multi"):
        return None
    code = language.split("-")[0].lower()
    if not (code.isascii() and code.isalpha() and 2 <= len(code) <= 3):
        raise Malformed("invalid_language", "language must be a BCP-47 tag such as `en` or `en-US`", "language")
    return code


def _refuse_unsupported(params: Mapping[str, str], names: tuple[str, ...]) -> None:
    for name in names:
        value = params.get(name)
        if value is not None and value.lower() not in FALSE:
            raise Malformed("unsupported_option", f"`{name}` is not supported by voxledger's Deepgram API", name)


def live_options(catalog: ModelCatalog, params: Mapping[str, str]) -> LiveOptions:
    """The socket's query parameters, checked; unknown ones are ignored, as Deepgram adds options."""
    _refuse_unsupported(params, UNSUPPORTED)
    if (encoding := params.get("encoding", "linear16")) != "linear16":
        raise Malformed("unsupported_encoding", f"encoding {encoding!r} is not supported; send linear16", "encoding")
    if _int(params, "channels") not in (None, 1):
        raise Malformed("unsupported_option", "only one channel (mono audio) is supported", "channels")
    sample_rate = _int(params, "sample_rate") or 16000
    if sample_rate not in SAMPLE_RATES:
        rates = ", ".join(map(str, SAMPLE_RATES))
        raise Malformed("unsupported_sample_rate", f"sample_rate must be one of {rates}", "sample_rate")
    endpointing_off = params.get("endpointing", "10").lower() in FALSE
    # Pauses are read from Whisper's word times, which are coarser than Deepgram's 10 ms default: 100 ms at least.
    endpointing_s = None if endpointing_off else max(MIN_ENDPOINTING_S, (_int(params, "endpointing") or 10) / 1000)
    utterance_end_ms = _int(params, "utterance_end_ms")
    if utterance_end_ms is not None and utterance_end_ms < 1000:
        raise Malformed("invalid_field", "`utterance_end_ms` must be at least 1000", "utterance_end_ms")
    _flag(params, "punctuate"), _flag(params, "smart_format")  # checked; whisper always punctuates
    return LiveOptions(
        model=model_name(catalog, params.get("model")),
        language=language_code(params.get("language")),
        sample_rate=sample_rate,
        interim_results=_flag(params, "interim_results"),
        endpointing_s=endpointing_s,
        utterance_end_s=None if utterance_end_ms is None else utterance_end_ms / 1000,
        vad_events=_flag(params, "vad_events"),
    )


def prerecorded_options(catalog: ModelCatalog, params: Mapping[str, str]) -> PrerecordedOptions:
    _refuse_unsupported(params, UNSUPPORTED)
    _flag(params, "punctuate"), _flag(params, "smart_format")
    return PrerecordedOptions(
        model=model_name(catalog, params.get("model")),
        language=language_code(params.get("language")),
        utterances=_flag(params, "utterances"),
    )


def error_fields(code: str, detail: str | None, request_id: str) -> dict[str, str]:
    """Deepgram's error shape, added to the problem: its SDKs read `err_code` and `err_msg`."""
    return {"err_code": code, "err_msg": detail or code, "request_id": request_id}


def words(items: list[Word]) -> list[dict[str, object]]:
    """Deepgram's words: `word` bare and lower case, `punctuated_word` as spoken."""
    out: list[dict[str, object]] = []
    for w in items:
        spoken = w.word.strip()
        bare = "".join(c for c in spoken if c.isalnum() or c in "'-").lower()
        word = {"word": bare or spoken, "start": w.start, "end": w.end, "confidence": round(w.probability, 4)}
        out.append({**word, "punctuated_word": spoken})
    return out


def _model_info(model: str) -> dict[str, str]:
    return {"name": model, "version": "voxledger", "arch": "whisper"}


def response_metadata(request_id: str, created: datetime, duration_s: float, model: str) -> dict[str, object]:
    """The `metadata` of a pre-recorded answer, and (with a type) the last message of a live socket."""
    return {
        "transaction_key": "deprecated",
        "request_id": request_id,
        "sha256": "",
        "created": created.isoformat().replace("+00:00", "Z"),
        "duration": duration_s,
        "channels": 1,
        "models": [model],
        "model_info": {model: _model_info(model)},
    }


def _alternative(segments: list[Segment]) -> dict[str, object]:
    all_words = [w for s in segments for w in s.words or []]
    confidence = round(sum(w.probability for w in all_words) / len(all_words), 4) if all_words else 0.0
    transcript = " ".join(s.text.strip() for s in segments if s.text.strip())
    return {"transcript": transcript, "confidence": confidence, "words": words(all_words)}


def prerecorded_body(
    metadata: dict[str, object], segments: list[Segment], language: str | None, utterances: bool
) -> dict[str, object]:
    """Deepgram's pre-recorded answer: one channel, one alternative; an utterance per segment if asked."""
    channel: dict[str, object] = {"alternatives": [_alternative(segments)]}
    if language:
        channel["detected_language"] = language
    results: dict[str, object] = {"channels": [channel]}
    if utterances:
        results["utterances"] = [
            {
                **_alternative([s]),
                "start": s.start,
                "end": s.end,
                "channel": 0,
                "speaker": 0,
                "id": f"{metadata['request_id']}-{s.index}",
            }
            for s in segments
        ]
    return {"metadata": metadata, "results": results}


class DeepgramMessages:
    """How the worker's output reads on WS /v1/listen: Results, SpeechStarted, UtteranceEnd, Metadata, Error."""

    def __init__(self, options: LiveOptions, model: str, created: datetime):
        self._options, self._model, self._created = options, model, created
        self.request_id = ""  # the session's id, once it has one

    def _results(
        self, start: float, end: float, text: str, confidence: float, word_list: list[dict[str, object]]
    ) -> dict[str, object]:
        metadata = {"request_id": self.request_id, "model_info": _model_info(self._model), "model_uuid": self._model}
        alternative = {"transcript": text, "confidence": confidence, "words": word_list}
        return {
            "type": "Results",
            "channel_index": CHANNEL,
            "duration": round(end - start, 3),
            "start": start,
            "is_final": False,
            "speech_final": False,
            "from_finalize": False,
            "channel": {"alternatives": [alternative]},
            "metadata": metadata,
        }

    def interim(self, interim: LiveInterim) -> list[dict[str, object]]:
        if not self._options.interim_results:
            return []
        return [self._results(interim.start, interim.end, interim.text, interim.confidence, [])]

    def final(self, segment: Segment, speech_final: bool) -> list[dict[str, object]]:
        text, confidence = segment.text, segment_confidence(segment)
        result = self._results(segment.start, segment.end, text, confidence, words(segment.words or []))
        return [{**result, "is_final": True, "speech_final": speech_final}]

    def turn(self, event: LiveTurn) -> list[dict[str, object]]:
        if event.kind == "speech_started":
            return (
                [{"type": "SpeechStarted", "channel": [0], "timestamp": event.at}] if self._options.vad_events else []
            )
        if self._options.utterance_end_s is None:
            return []
        return [{"type": "UtteranceEnd", "channel": CHANNEL, "last_word_end": event.at}]

    def error(self, code: str, message: str) -> list[dict[str, object]]:
        return [error_message(code, message)]

    def ended(self, session_id: str, reason: str, duration_s: float, stats: object) -> list[dict[str, object]]:
        return [{"type": "Metadata", **response_metadata(session_id, self._created, duration_s, self._model)}]


def error_message(code: str, message: str) -> dict[str, object]:
    """Deepgram's in-stream error frame."""
    return {"type": "Error", "variant": code, "description": message, "code": code}
