"""A job followed on the event log until it ends: for requests that answer with the job's result (OpenAI's API)."""

from collections.abc import AsyncGenerator

from voxledger.contracts import envelope, events
from voxledger.gateway.adapters.bus import Bus

JobEvent = (
    events.SegmentsTranscribed
    | events.TranscriptionCompleted
    | events.TranscriptionFailed
    | events.TranscriptionCancelled
)
END_TYPES = frozenset({"TranscriptionCompleted", "TranscriptionFailed", "TranscriptionCancelled"})
FOLLOWED_TYPES = END_TYPES | {"SegmentsTranscribed"}


async def job_events(
    bus: Bus, recording_id: str, job_id: str, idle_s: float
) -> AsyncGenerator[tuple[int, JobEvent] | None, None]:
    """The job's segments as they are appended and then its end, each with its stream sequence; None while idle.

    Read from the log, as SSE is: nothing is folded, and the job's result is then read from the read models."""
    follow = bus.follow(recording_id, 0, idle_s)
    try:
        async for msg in follow:
            if msg is None:
                yield None
                continue
            if envelope.decode_envelope(msg.data).type not in FOLLOWED_TYPES:
                continue
            body = (await bus.decode(msg.data)).body
            if isinstance(body, JobEvent) and body.job_id == job_id:
                yield msg.metadata.sequence.stream, body
                if type(body).__name__ in END_TYPES:
                    return
    finally:
        await follow.aclose()
