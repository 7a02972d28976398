"""The live socket's message protocol, as pure parsing and validation.

Client text messages: auth, start, resume, stop (JSON with a `type`); audio comes as binary frames.
Server messages: ready, interim, final, speech_started, utterance_end, error (with a stable code), ended.
"""

from typing import Annotated, Literal

import msgspec

from voxledger.contracts.events import LiveEncoding, Segment
from voxledger.contracts.live import BYTES_PER_SAMPLE, SAMPLE_RATES, LiveInterim, LiveTurn, segment_confidence
from voxledger.gateway.domain.errors import DomainError
from voxledger.gateway.domain.validation import check_strings, is_canonical_id

MAX_MESSAGE_CHARS = 4096  # control messages are small; audio comes as binary frames


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, fatal: bool = False):
        super().__init__(message)
        self.code, self.message, self.fatal = code, message, fatal


class Auth(msgspec.Struct, tag="auth", forbid_unknown_fields=False):
    api_key: str


class Start(msgspec.Struct, tag="start", kw_only=True):
    sample_rate: int = 16000
    encoding: LiveEncoding = "pcm_s16le"
    language: str | None = None
    model: str | None = None
    # Turn detection: the silence after a final that ends the speaker's turn (0: no final does), and after the
    # last word that ends an utterance.
    endpointing_ms: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 300
    utterance_end_ms: Annotated[int, msgspec.Meta(ge=500, le=10_000)] = 1000

    @property
    def endpointing_s(self) -> float | None:
        """None: no final ends a turn."""
        return self.endpointing_ms / 1000 or None


class Resume(msgspec.Struct, tag="resume", kw_only=True):
    session_id: str
    after_index: int = -1  # the last final the client holds; later ones are sent again


class Stop(msgspec.Struct, tag="stop"):
    pass


ClientMessage = Auth | Start | Resume | Stop
_decoder: msgspec.json.Decoder[ClientMessage] = msgspec.json.Decoder(ClientMessage)


def parse(text: str) -> ClientMessage:
    if len(text) > MAX_MESSAGE_CHARS:
        raise ProtocolError("invalid_message", f"a control message is at most {MAX_MESSAGE_CHARS} characters")
    try:
        message = _decoder.decode(text)
    except msgspec.ValidationError as err:
        raise ProtocolError("invalid_message", f"not a valid client message: {err}") from None
    except msgspec.DecodeError:
        raise ProtocolError("malformed_message", "a text frame must be a JSON object with a `type`") from None
    try:
        check_strings(message, "", 512)
    except DomainError as err:  # a control character or an overlong value, in the field it names
        raise ProtocolError(err.code, err.message) from None
    match message:
        case Start(sample_rate=rate) if rate not in SAMPLE_RATES:
            raise ProtocolError(
                "unsupported_sample_rate", f"sample_rate must be one of {', '.join(map(str, SAMPLE_RATES))}"
            )
        case Start(language=lang) if lang is not None and not (
            lang.isascii() and lang.isalpha() and 2 <= len(lang) <= 3
        ):
            raise ProtocolError("invalid_language", "language must be an ISO 639-1 code such as `en`")
        case Resume(session_id=sid) if not is_canonical_id(sid):
            raise ProtocolError("session_not_found", "no such live session")
    return message


def check_frame(data: bytes, encoding: str) -> None:
    """A frame must hold whole samples of the session's encoding."""
    width = BYTES_PER_SAMPLE[encoding]
    if not data or len(data) % width:
        raise ProtocolError("malformed_audio_frame", f"an audio frame must hold whole {width}-byte {encoding} samples")


def seconds(byte_count: int, encoding: str, sample_rate: int) -> float:
    return byte_count / BYTES_PER_SAMPLE[encoding] / sample_rate


class Pacer:
    """Audio ahead of real time beyond an allowance: how long to stop reading the socket (nothing is dropped)."""

    def __init__(self, started_at: float, allowance_s: float):
        self._started_at, self._allowance_s = started_at, allowance_s
        self.audio_s = 0.0

    def add(self, frame_s: float, now: float) -> float:
        self.audio_s += frame_s
        return max(0.0, self.audio_s - (now - self._started_at) - self._allowance_s)


def error(code: str, message: str, fatal: bool = False) -> dict[str, object]:
    return {"type": "error", "code": code, "message": message, "fatal": fatal}


def final(segment: Segment, speech_final: bool = False) -> dict[str, object]:
    return {
        "type": "final",
        "index": segment.index,
        "start": segment.start,
        "end": segment.end,
        "text": segment.text,
        "confidence": segment_confidence(segment),
        "speech_final": speech_final,
    }


def turn(event: LiveTurn) -> dict[str, object]:
    if event.kind == "speech_started":
        return {"type": "speech_started", "start": event.at}
    return {"type": "utterance_end", "last_word_end": event.at}


class NativeMessages:
    """How the worker's output reads on WS /v1/live (the Deepgram door has its own, domain/deepgram.py)."""

    def interim(self, interim: LiveInterim) -> list[dict[str, object]]:
        return [{"type": "interim", **msgspec.to_builtins(interim)}]

    def final(self, segment: Segment, speech_final: bool) -> list[dict[str, object]]:
        return [final(segment, speech_final)]

    def turn(self, event: LiveTurn) -> list[dict[str, object]]:
        return [turn(event)]

    def error(self, code: str, message: str) -> list[dict[str, object]]:
        return [error(code, message, fatal=True)]

    def ended(self, session_id: str, reason: str, duration_s: float, stats: object) -> list[dict[str, object]]:
        ended = {"type": "ended", "session_id": session_id, "recording_id": session_id}
        return [{**ended, "reason": reason, "duration_s": duration_s, "stats": msgspec.to_builtins(stats)}]


Kind = Literal["interim", "final"]
