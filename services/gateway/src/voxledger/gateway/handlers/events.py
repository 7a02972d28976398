"""GET /v1/events: every event of the tenant's recordings on one server-sent event stream, resumable.

A browser opens only about six connections per host over HTTP/1.1, so a page showing many recordings follows
them all on this one stream. Events are filtered by the envelope's tenant here, never by the client.
"""

from collections.abc import AsyncIterator

from litestar import get
from litestar.di import NamedDependency
from litestar.response import ServerSentEvent, ServerSentEventMessage

from voxledger.contracts import subjects
from voxledger.contracts.envelope import decode_envelope
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.domain.validation import parse_seq
from voxledger.gateway.handlers.recordings import sse_frame, sse_response
from voxledger.gateway.http.metrics import GatewayMetrics
from voxledger.gateway.http.params import LastEventId, ResumeAfter
from voxledger.gateway.http.quotas import Quotas
from voxledger.gateway.settings import GatewaySettings

ALL_RECORDINGS = f"{subjects.EVENTS_PREFIX}.{subjects.RECORDING}.>"


def ready_message(seq: int, reset: bool = False) -> ServerSentEventMessage:
    """The stream's first message: the sequence it starts after. Read the list with it as `min_seq`, then apply
    the events that follow: nothing between the read and the stream is missed. With `reset`, the resume point
    was too far back to replay: the stream starts at the head instead, and the client reloads its state."""
    data = f'{{"seq":{seq},"reset":"resume_too_old"}}' if reset else f'{{"seq":{seq}}}'
    return ServerSentEventMessage(data=data, event="ready", id=seq)


@get(
    "/events",
    summary="Server-sent events of all the tenant's recordings; resumes from Last-Event-ID",
    opt={"scope": "read"},
)
async def tenant_events(
    tenant: NamedDependency[str],
    settings: NamedDependency[GatewaySettings],
    quotas: NamedDependency[Quotas],
    bus: NamedDependency[Bus],
    metrics: NamedDependency[GatewayMetrics],
    last_event_id: LastEventId = None,
    after: ResumeAfter = None,
) -> ServerSentEvent:
    resume = last_event_id or after
    # A fresh stream starts at the log's head: the tenant's history is read from the read models, not replayed.
    # So does a resume from too far back: every tenant's events pass through here to be filtered, so a replay's
    # cost is bounded by sse_max_resume_events, not by the age of the log.
    head = await bus.events_head()
    after_seq = parse_seq(resume, "Last-Event-ID", "invalid_last_event_id") if resume else head
    reset = head - after_seq > settings.sse_max_resume_events
    after_seq = head if reset else after_seq
    slot = quotas.sse_streams.acquire(tenant)
    follow = bus.follow_subject(ALL_RECORDINGS, after_seq, settings.sse_keepalive_s)  # 0: an empty log, from its start

    async def frames() -> AsyncIterator[ServerSentEventMessage]:
        yield ready_message(after_seq, reset)
        async for msg in follow:
            if msg is None or decode_envelope(msg.data).tenant_id == tenant:
                yield await sse_frame(bus, msg)

    return sse_response(frames(), follow, slot, metrics)
