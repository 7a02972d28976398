"""Live transcription vocabulary shared by the gateway and the live worker.

The session spec is what the gateway registers for a worker to claim; the interim is what a worker
publishes (transient) for the gateway to forward. Audio frames carry their byte offset in a header.
"""

import math
from typing import Literal

import msgspec

from voxledger.contracts.events import LiveEncoding, Segment, TranscriptionOptions

SAMPLE_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
BYTES_PER_SAMPLE: dict[str, int] = {"pcm_s16le": 2, "f32le": 4}

# Headers on LIVE_AUDIO messages.
OFFSET_HEADER = "Vl-Offset"  # bytes of this session's audio before this frame
# "audio" (default), "end", or FINALIZE_KIND (make what was heard final now); on the interim subject, TURN_KIND
# marks a turn event.
KIND_HEADER = "Vl-Kind"
FINALIZE_KIND = "finalize"
REASON_HEADER = "Vl-Reason"  # with "end": stopped | max_duration | inactivity
# On frames and interims: "1" when the payload is sealed with the session's data key (runtime/vault.py).
SEALED_HEADER = "Vl-Sealed"
FRAME_KIND, INTERIM_KIND = "LiveAudio", "LiveInterim"  # what a sealed frame or interim is bound to
TURN_KIND = "turn"


class LiveSessionSpec(msgspec.Struct, kw_only=True):
    tenant_id: str
    job_id: str
    sample_rate: int
    encoding: LiveEncoding
    options: TranscriptionOptions
    traceparent: str | None = None
    # Turn detection: a final followed by this much silence ends the speaker's turn (None: never flagged),
    # and an utterance ends once this much silence followed its last word.
    endpointing_s: float | None = 0.3
    utterance_end_s: float = 1.0


class LiveInterim(msgspec.Struct, kw_only=True):
    """The not-yet-final text after the finals so far; `index` is the index its final will get."""

    index: int
    start: float
    end: float
    text: str
    confidence: float


class LiveTurn(msgspec.Struct, kw_only=True):
    """A turn event, transient like an interim (on its subject, with `Vl-Kind: turn`, never sealed: it holds no text).

    `at`: for speech_started the first word's start, for utterance_end the last word's end (session seconds).
    `after_index`: the finals before this index reach the client before this event does."""

    kind: Literal["speech_started", "utterance_end"]
    at: float
    after_index: int


def frame_id(session_id: str, offset: int) -> str:
    """Nats-Msg-Id of a frame: a frame re-sent after a reconnect is deduplicated by the server."""
    return f"{session_id}:{offset}"


def segment_confidence(segment: Segment) -> float:
    """The mean probability of the segment's words; without words, the segment's mean token probability."""
    if segment.words:
        return round(sum(w.probability for w in segment.words) / len(segment.words), 4)
    return round(min(1.0, math.exp(segment.avg_logprob)), 4)


LEASE_PREFIX = "live."  # in the leases bucket: the worker holding a session holds `live.<session_id>`


def lease_key(session_id: str) -> str:
    return LEASE_PREFIX + session_id
