"""Live transcription vocabulary shared by the gateway and the live worker.

The session spec is what the gateway registers for a worker to claim; the interim is what a worker
publishes (transient) for the gateway to forward. Audio frames carry their byte offset in a header.
"""

import math

import msgspec

from voxledger.contracts.events import LiveEncoding, Segment, TranscriptionOptions

SAMPLE_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
BYTES_PER_SAMPLE: dict[str, int] = {"pcm_s16le": 2, "f32le": 4}

# Headers on LIVE_AUDIO messages.
OFFSET_HEADER = "Vl-Offset"  # bytes of this session's audio before this frame
KIND_HEADER = "Vl-Kind"  # "audio" (default) or "end"
REASON_HEADER = "Vl-Reason"  # with "end": stopped | max_duration | inactivity
# On frames and interims: "1" when the payload is sealed with the session's data key (runtime/vault.py).
SEALED_HEADER = "Vl-Sealed"
FRAME_KIND, INTERIM_KIND = "LiveAudio", "LiveInterim"  # what a sealed frame or interim is bound to


class LiveSessionSpec(msgspec.Struct, kw_only=True):
    tenant_id: str
    job_id: str
    sample_rate: int
    encoding: LiveEncoding
    options: TranscriptionOptions
    traceparent: str | None = None


class LiveInterim(msgspec.Struct, kw_only=True):
    """The not-yet-final text after the finals so far; `index` is the index its final will get."""

    index: int
    start: float
    end: float
    text: str
    confidence: float


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
