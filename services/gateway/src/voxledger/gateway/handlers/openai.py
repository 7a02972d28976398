"""OpenAI's audio API: /v1/audio/transcriptions and /v1/audio/translations, each request an ordinary job.

The upload takes the native path (the same checks, blob storage, quotas and command); the request then follows
its job on the event log until it ends and answers in OpenAI's shape, or streams OpenAI's events as segments
are appended. A client that goes away leaves the job running: it is in the recordings list like any upload.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.response import ServerSentEvent, ServerSentEventMessage

from voxledger.contracts import events
from voxledger.contracts.events import Segment, Task
from voxledger.contracts.failures import public_message
from voxledger.contracts.readmodels import JobRow
from voxledger.gateway import schemas
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.job_events import job_events
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.domain import openai, speakers, transcripts
from voxledger.gateway.domain.models import ModelCatalog
from voxledger.gateway.handlers.recordings import FORMAT_MEDIA, accept_upload, checked_audio, form_flag, read_form
from voxledger.gateway.http.consistency import ProjectionNotifier
from voxledger.gateway.http.errors import ApiError
from voxledger.gateway.http.metrics import GatewayMetrics
from voxledger.gateway.http.params import IdempotencyKey, OpenAIOperation
from voxledger.gateway.http.quotas import Quotas, Slot
from voxledger.gateway.settings import GatewaySettings

_encode = msgspec.json.Encoder().encode
GRANULARITIES_FIELD = "timestamp_granularities[]"


class JobAnswers:
    """What an OpenAI request needs besides its form: where jobs are published, followed and read."""

    def __init__(
        self,
        settings: GatewaySettings,
        bus: Bus,
        readmodels: ReadModels,
        notifier: ProjectionNotifier,
        quotas: Quotas,
        metrics: GatewayMetrics,
    ):
        self.settings, self.bus, self.readmodels, self.notifier = settings, bus, readmodels, notifier
        self.quotas, self.metrics = quotas, metrics

    async def ended(self, recording_id: str, job_id: str) -> tuple[int, events.Event]:
        """The job's end event and its sequence; 504 job_still_running once `openai_wait_s` has passed."""
        try:
            followed = job_events(self.bus, recording_id, job_id, self.settings.sse_keepalive_s)
            async with asyncio.timeout(self.settings.openai_wait_s), contextlib.aclosing(followed) as items:
                async for item in items:
                    if item is not None and not isinstance(item[1], events.SegmentsTranscribed):
                        return item
        except TimeoutError:
            pass
        detail = f"job {job_id} is still running; follow it at /v1/jobs/{job_id}"
        raise ApiError(504, "job_still_running", detail)

    async def completed(self, tenant: str, accepted: schemas.Accepted) -> tuple[JobRow, list[Segment]]:
        """The job once it has completed, and its segments; its failure as a problem."""
        end_seq, end = await self.ended(accepted.recording_id, str(accepted.job_id))
        if not isinstance(end, events.TranscriptionCompleted):
            raise job_failure(end)
        return await self.result(tenant, str(accepted.job_id), end_seq)

    async def result(self, tenant: str, job_id: str, end_seq: int) -> tuple[JobRow, list[Segment]]:
        """The completed job and its segments, once the read models have projected its end."""
        await self.notifier.wait_for_seq(end_seq, time.monotonic() + self.settings.openai_result_wait_s)
        job = await self.readmodels.jobs.get(tenant, job_id)
        if job is None or job.status != "completed":
            raise ApiError(503, "read_model_stale", "the job ended but its transcript is not readable yet; retry")
        rows = await self.readmodels.transcripts.segments(tenant, job_id)
        return job, [schemas.segment_view(r) for r in rows]


def job_failure(event: events.Event) -> ApiError:
    code = event.error_code if isinstance(event, events.TranscriptionFailed) else "job_cancelled"
    message = "the job was cancelled" if code == "job_cancelled" else public_message(code)
    return ApiError(openai.failure_status(code), code, message)


def _rendered(request: openai.OpenAIRequest, job: JobRow, segments: list[Segment], headers: dict) -> Response:
    match request.response_format:
        case "json":
            text = openai.transcript_text(segments)
            body = {"text": text, "usage": {"type": "duration", "seconds": job.duration_s}}
            return Response(body, headers=headers)
        case "verbose_json":
            return Response(openai.verbose_body(request, job, segments), headers=headers)
        case "diarized_json":
            turns, names = speakers.job_turns(job)
            return Response(openai.diarized_body(job, speakers.label(segments, turns, names)), headers=headers)
        case "text":
            return Response(transcripts.to_text(segments), media_type=FORMAT_MEDIA["txt"], headers=headers)
        case "srt" | "vtt" as fmt:
            render = transcripts.to_srt if fmt == "srt" else transcripts.to_vtt
            return Response(render(segments), media_type=FORMAT_MEDIA[fmt], headers=headers)


def _sse(data: dict, event: str | None = None) -> ServerSentEventMessage:
    return ServerSentEventMessage(data=_encode(data).decode(), event=event)


def _stream_messages(item: tuple[int, events.Event] | None, texts: list[str]) -> list[ServerSentEventMessage]:
    """What one followed item sends: a delta per new segment, the whole text at the end, or the failure."""
    match item:
        case None:
            return [ServerSentEventMessage(comment="keep-alive", data=None)]
        case (_, events.SegmentsTranscribed(segments=segments)):
            messages = []
            for segment in (s for s in segments if s.text):
                messages.append(_sse({"type": "transcript.text.delta", "delta": (" " if texts else "") + segment.text}))
                texts.append(segment.text)
            return messages
        case (_, events.TranscriptionCompleted()):
            return [_sse({"type": "transcript.text.done", "text": " ".join(texts)})]
        case (_, end):
            failure = job_failure(end)
            return [_sse({"error": openai.error_body(failure.status, failure.code, failure.detail, None)}, "error")]
    return []


async def _stream(answers: JobAnswers, accepted: schemas.Accepted, slot: Slot) -> AsyncIterator[ServerSentEventMessage]:
    """OpenAI's stream: a `transcript.text.delta` per segment as it is appended, then `transcript.text.done`."""
    texts: list[str] = []
    followed = job_events(answers.bus, accepted.recording_id, str(accepted.job_id), answers.settings.sse_keepalive_s)
    try:
        # Closed explicitly, so a client that leaves ends the subscription now, not when it is collected.
        async with contextlib.aclosing(followed) as items:
            async for item in items:
                for message in _stream_messages(item, texts):
                    yield message
    finally:
        slot.release()


async def _answer(
    request: Request, tenant: str, catalog: ModelCatalog, answers: JobAnswers, key: str | None, task: Task
) -> Response:
    form = await read_form(request, answers.settings, answers.quotas, tenant)
    try:
        detected = checked_audio(form)
        stream = form_flag(form.fields.get("stream"), "stream", False)
        asked = openai.parse_request(catalog, form.fields, form.lists.get(GRANULARITIES_FIELD, []), task, stream)
        slot = answers.quotas.sse_streams.acquire(tenant)  # the request holds a subscription, as a stream does
    except BaseException:
        form.close()
        raise
    try:
        accepted = await accept_upload(
            request, tenant, form, detected, asked.options, answers.quotas, answers.bus, answers.metrics, key
        )
        job_id = str(accepted.job_id)
        headers = {"X-Recording-Id": accepted.recording_id, "X-Job-Id": job_id}
        if asked.stream:
            body = _stream(answers, accepted, slot)
            slot.bind(body)  # a stream that never starts (the client left first) still frees its slot
            return ServerSentEvent(body, headers={**headers, "Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        end_seq, end = await answers.ended(accepted.recording_id, job_id)
    except BaseException:
        slot.release()
        raise
    slot.release()
    if not isinstance(end, events.TranscriptionCompleted):
        raise job_failure(end)
    job, segments = await answers.result(tenant, job_id, end_seq)
    return _rendered(asked, job, segments, headers)


@post(
    "/audio/transcriptions",
    status_code=200,
    summary="OpenAI-compatible: transcribe a file (multipart), answering when its job has ended",
    request_max_body_size=None,  # streamed, and capped while it streams by the multipart parser
    operation_class=OpenAIOperation,
    opt={"scope": "member"},
)
async def create_transcription(
    request: Request,
    tenant: NamedDependency[str],
    catalog: NamedDependency[ModelCatalog],
    answers: NamedDependency[JobAnswers],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return await _answer(request, tenant, catalog, answers, idempotency_key, "transcribe")


@post(
    "/audio/translations",
    status_code=200,
    summary="OpenAI-compatible: translate a file's speech into English text (multipart)",
    request_max_body_size=None,
    operation_class=OpenAIOperation,
    opt={"scope": "member"},
)
async def create_translation(
    request: Request,
    tenant: NamedDependency[str],
    catalog: NamedDependency[ModelCatalog],
    answers: NamedDependency[JobAnswers],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return await _answer(request, tenant, catalog, answers, idempotency_key, "translate")
