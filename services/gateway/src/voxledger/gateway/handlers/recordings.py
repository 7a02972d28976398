"""/v1/recordings: upload, list, read, re-transcribe, transcript, event stream."""

from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from nats.aio.msg import Msg

from voxledger.contracts.commands import RequestTranscription, UploadRecording
from voxledger.contracts.envelope import decode_envelope, needs_key
from voxledger.contracts.events import TranscriptionOptions
from voxledger.contracts.ids import new_id
from voxledger.contracts.readmodels import JobRow, RecordingRow
from voxledger.contracts.statuses import RecordingStatus
from voxledger.gateway import schemas
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.idempotency import fingerprint, reserve
from voxledger.gateway.adapters.multipart import BodyParser, UploadedForm, parse_upload
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.domain import speakers, transcripts
from voxledger.gateway.domain.audio_sniff import sniff_audio
from voxledger.gateway.domain.downloads import attachment
from voxledger.gateway.domain.errors import Conflict, Malformed, TooLarge, Unacceptable, UnsupportedMedia, not_found
from voxledger.gateway.domain.models import ModelCatalog
from voxledger.gateway.domain.options import job_options
from voxledger.gateway.domain.pagination import decode_cursor, encode_cursor
from voxledger.gateway.domain.validation import parse_seq
from voxledger.gateway.handlers.common import FreshReads, valid_id
from voxledger.gateway.http.consistency import issue_token
from voxledger.gateway.http.metrics import GatewayMetrics
from voxledger.gateway.http.params import (
    Cursor,
    IdempotencyKey,
    LastEventId,
    OptionalJobId,
    RecordingId,
    ResumeAfter,
    UploadOperation,
)
from voxledger.gateway.http.quotas import Quotas, Slot
from voxledger.gateway.settings import GatewaySettings

FORMAT_MEDIA = {  # Litestar adds `; charset=utf-8` to a text/* type itself
    "txt": "text/plain",
    "srt": "application/x-subrip",
    "vtt": "text/vtt",
    "rttm": "text/plain",
}


def form_flag(value: str | None, name: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise Malformed("invalid_field", f"`{name}` must be true or false")


async def read_form(
    request: Request, settings: GatewaySettings, quotas: Quotas, tenant: str, parse: BodyParser = parse_upload
) -> UploadedForm:
    """The streamed form (or, `parse` another, the body as a form); one of the tenant's uploads in flight while it
    arrives (http/body_timeout.py paces it)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > settings.max_upload_mb * 2**20 + 64 * 1024:
        # Refuse before reading: the client learns at once instead of after sending it all.
        raise TooLarge("file_too_large", f"the upload exceeds the {settings.max_upload_mb} MiB limit")
    slot = quotas.uploads.acquire(tenant)
    try:
        return await parse(
            request.headers.get("content-type", ""),
            request.stream(),
            settings.max_upload_mb * 2**20,
            settings.upload_memory_mb * 2**20,
            settings.max_form_fields,
        )
    finally:
        slot.release()


def checked_audio(form: UploadedForm) -> str:
    """The sniffed media type of the form's file; or the problem with it."""
    if form.filename is None:
        raise Unacceptable("file_missing", "the form has no `file` part")
    if form.size == 0:
        raise Malformed("file_empty", "the uploaded file is empty")
    detected = sniff_audio(form.head)
    if detected is None:
        raise UnsupportedMedia("unsupported_media_type", "the file is not a recognised audio format", "file")
    return detected


def _checked_form(catalog: ModelCatalog, form: UploadedForm) -> tuple[str, TranscriptionOptions, bool]:
    """The sniffed media type, the options and whether to transcribe; or the problem with the form."""
    detected = checked_audio(form)
    fields = form.fields
    options = job_options(
        catalog,
        fields.get("model"),
        fields.get("language") or None,
        fields.get("task", "transcribe"),
        prompt=fields.get("prompt"),
        hotwords=fields.get("hotwords"),
        temperature=fields.get("temperature"),
        batch_size=fields.get("batch_size"),
        priority=fields.get("priority"),
        word_timestamps=form_flag(fields.get("word_timestamps"), "word_timestamps", False),
        vad=form_flag(fields.get("vad"), "vad", False),
        speakers=fields.get("speakers"),
        min_speakers=fields.get("min_speakers"),
        max_speakers=fields.get("max_speakers"),
    )
    return detected, options, form_flag(fields.get("transcribe"), "transcribe", True)


@post(
    "/recordings",
    status_code=202,
    summary="Upload a recording (multipart `file`) and queue its transcription",
    request_max_body_size=None,  # streamed, and capped while it streams by the multipart parser
    operation_class=UploadOperation,
    opt={"scope": "member"},
)
async def upload_recording(
    request: Request,
    tenant: NamedDependency[str],
    settings: NamedDependency[GatewaySettings],
    catalog: NamedDependency[ModelCatalog],
    quotas: NamedDependency[Quotas],
    bus: NamedDependency[Bus],
    metrics: NamedDependency[GatewayMetrics],
    idempotency_key: IdempotencyKey = None,
) -> schemas.Accepted:
    form = await read_form(request, settings, quotas, tenant)
    try:
        detected, options, transcribe = _checked_form(catalog, form)
    except BaseException:
        form.close()
        raise
    return await accept_upload(
        request, tenant, form, detected, options if transcribe else None, quotas, bus, metrics, idempotency_key
    )


async def accept_upload(
    request: Request,
    tenant: str,
    form: UploadedForm,
    content_type: str,
    options: TranscriptionOptions | None,
    quotas: Quotas,
    bus: Bus,
    metrics: GatewayMetrics,
    idempotency_key: str | None,
) -> schemas.Accepted:
    """Stores a checked upload and publishes its one command (with a job unless `options` is None); closes the form."""
    try:
        await quotas.check_storage(tenant, form.size)
        if options is not None:
            await quotas.check_queued_jobs(tenant)
        ids = await reserve(
            bus.js,
            tenant,
            "recordings",
            idempotency_key,
            fingerprint(form.sha256.hexdigest(), form.filename, sorted(form.fields.items())),
            lambda: {"recording_id": new_id(), "job_id": new_id() if options is not None else None},
        )
        recording_id, job_id = str(ids["recording_id"]), ids["job_id"]
        if await bus.vault.erased(recording_id):  # a retry (same Idempotency-Key) after a delete
            raise Conflict("recording_deleted", "this request's recording was deleted; its audio is not stored again")
        blob_key = f"recordings/{recording_id}"
        await bus.store_audio(blob_key, form.file, form.sha256.digest())
    finally:
        form.close()
    command = UploadRecording(
        recording_id=recording_id,
        filename=str(form.filename),  # checked_audio refused a form without a file
        content_type=content_type,
        size_bytes=form.size,
        blob_key=blob_key,
        blob_digest=f"sha256:{form.sha256.hexdigest()}",
        job_id=job_id,
        options=options or TranscriptionOptions(),
    )
    issue_token(request, await bus.send(command, aggregate_id=recording_id, tenant=tenant, dedup_key=recording_id))
    metrics.uploads.inc()
    return schemas.Accepted(
        recording_id=recording_id,
        job_id=job_id,
        status="queued" if job_id else "uploaded",
        links=schemas.recording_links(recording_id, job_id),
    )


@get("/recordings", summary="List recordings, newest first", opt={"scope": "read"})
async def list_recordings(
    tenant: NamedDependency[str],
    readmodels: NamedDependency[ReadModels],
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    cursor: Cursor = None,
    status: FromQuery[RecordingStatus | None] = None,
    created_after: FromQuery[datetime | None] = None,
    tag: FromQuery[Annotated[str | None, Parameter(max_length=40)]] = None,
    folder: FromQuery[Annotated[str | None, Parameter(max_length=100)]] = None,
) -> schemas.RecordingPage:
    before = decode_cursor(cursor) if cursor else None
    rows = await readmodels.recordings.page(tenant, limit + 1, before, status, created_after, tag=tag, folder=folder)
    return schemas.RecordingPage.of(rows, limit, schemas.recording_view, lambda r: encode_cursor(r.recording_id))


@get("/recordings/{recording_id:str}", summary="A recording and its jobs", opt={"scope": "read"})
async def get_recording(
    tenant: NamedDependency[str], fresh: NamedDependency[FreshReads], recording_id: RecordingId
) -> schemas.Recording:
    row = await fresh.recording(tenant, recording_id)
    jobs = await fresh.readmodels.recordings.jobs_of(tenant, row.recording_id)
    return schemas.recording_view(row, [schemas.job_view(j) for j in jobs])


@post(
    "/recordings/{recording_id:str}/transcriptions",
    status_code=202,
    summary="Transcribe again, as a new job",
    opt={"scope": "member"},
)
async def request_transcription(
    request: Request,
    tenant: NamedDependency[str],
    catalog: NamedDependency[ModelCatalog],
    fresh: NamedDependency[FreshReads],
    quotas: NamedDependency[Quotas],
    bus: NamedDependency[Bus],
    recording_id: RecordingId,
    data: JSONBody[schemas.TranscriptionRequest | None] = None,
    idempotency_key: IdempotencyKey = None,
) -> schemas.Accepted:
    body = data or schemas.TranscriptionRequest()
    options = job_options(
        catalog,
        body.model,
        body.language,
        body.task,
        prompt=body.prompt,
        hotwords=body.hotwords,
        temperature=body.temperature,
        batch_size=body.batch_size,
        priority=body.priority,
        word_timestamps=body.word_timestamps,
        vad=body.vad,
        speakers=body.speakers,
        min_speakers=body.min_speakers,
        max_speakers=body.max_speakers,
    )
    row = await fresh.recording(tenant, recording_id)
    await quotas.check_queued_jobs(tenant)
    await quotas.check_event_log(tenant)
    ids = await reserve(
        bus.js,
        tenant,
        f"transcriptions:{row.recording_id}",
        idempotency_key,
        fingerprint(msgspec.to_builtins(options)),
        lambda: {"job_id": new_id()},
    )
    job_id = str(ids["job_id"])
    command = RequestTranscription(recording_id=row.recording_id, job_id=job_id, options=options)
    issue_token(request, await bus.send(command, aggregate_id=row.recording_id, tenant=tenant, dedup_key=job_id))
    return schemas.Accepted(
        recording_id=row.recording_id,
        job_id=job_id,
        status="queued",
        links=schemas.recording_links(row.recording_id, job_id),
    )


async def transcript_job(readmodels: ReadModels, tenant: str, recording: RecordingRow, job_id: str | None) -> JobRow:
    """The job whose transcript to show: the one asked for, or the newest completed one."""
    if job_id is not None:
        job = await readmodels.jobs.get(tenant, valid_id(job_id, "job"))
        if job is None or job.recording_id != recording.recording_id:
            raise not_found("job", "no such job for this recording")
        return job
    job = await readmodels.jobs.latest_completed_job(tenant, recording.recording_id)
    if job is None:
        detail = f"no transcription of this recording has completed (status: {recording.status})"
        raise Conflict("transcript_not_ready", detail)
    return job


@get(
    "/recordings/{recording_id:str}/transcript",
    summary="The transcript as json, txt, srt, vtt or rttm",
    opt={"scope": "read"},
)
async def get_transcript(
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    recording_id: RecordingId,
    format: FromQuery[Literal["json", "txt", "srt", "vtt", "rttm"]] = "json",  # noqa: A002
    job_id: OptionalJobId = None,
) -> Response:
    row = await fresh.recording(tenant, recording_id)
    job = await transcript_job(fresh.readmodels, tenant, row, job_id)
    turns, names = speakers.job_turns(job)
    if format == "rttm":
        if job.speaker_turns is None:
            raise Conflict("speakers_not_diarized", "this job was not diarized: request it with `speakers`")
        rttm = speakers.to_rttm(row.recording_id, speakers.named_turns(turns, names))
        headers = {"X-Job-Id": job.job_id, "Content-Disposition": attachment(schemas.download_stem(row), "rttm")}
        return Response(rttm, media_type=FORMAT_MEDIA["rttm"], headers=headers)
    segments = await labelled_segments(fresh.readmodels, tenant, job)
    headers = {"X-Job-Id": job.job_id, "X-Job-Status": job.status}
    if format != "json":  # an export downloads as `<name>.<format>`; JSON is the API's own answer
        headers["Content-Disposition"] = attachment(schemas.download_stem(row), format)
        return Response(RENDERERS[format](segments), media_type=FORMAT_MEDIA[format], headers=headers)
    body = schemas.Transcript(
        recording_id=row.recording_id,
        job_id=job.job_id,
        status=job.status,
        language=job.language,
        duration_s=job.duration_s,
        text=" ".join(s.text for s in segments),
        segments=segments,
        language_probability=job.language_probability,
        speakers=list(dict.fromkeys(w for _, _, w in speakers.named_turns(turns, names))) if turns else None,
    )
    return Response(body, headers=headers)


RENDERERS = {"txt": transcripts.to_text, "srt": transcripts.to_srt, "vtt": transcripts.to_vtt}


async def labelled_segments(readmodels: ReadModels, tenant: str, job: JobRow) -> list[speakers.SpeakerSegment]:
    """The job's segments, each with the (named) speaker it overlaps most once the job is diarized."""
    turns, names = speakers.job_turns(job)
    rows = await readmodels.transcripts.segments(tenant, job.job_id)
    return speakers.label([schemas.segment_view(r) for r in rows], turns, names)


_encode = msgspec.json.Encoder().encode


async def sse_frame(bus: Bus, msg: Msg | None) -> ServerSentEventMessage:
    """An event from the log as an SSE message, its stream sequence as id; None (idle) is a keep-alive.

    The one place events become frames: sealed fields are opened here (an erased event shows them blank)."""
    if msg is None:
        return ServerSentEventMessage(comment="keep-alive", data=None)  # a comment only: no empty message event
    env = decode_envelope(msg.data)
    seq = msg.metadata.sequence.stream
    opened = msgspec.Raw(_encode((await bus.decode(msg.data)).body)) if needs_key(env) else env.data
    data = schemas.public_event_data(env.type, opened)
    payload = schemas.SseEvent(seq, env.type, env.aggregate_id, env.occurred_at.isoformat(), data)
    return ServerSentEventMessage(data=_encode(payload).decode(), event=env.type, id=seq)


@get(
    "/recordings/{recording_id:str}/events",
    summary="Server-sent events of the recording; resumes from Last-Event-ID",
    opt={"scope": "read"},
)
async def recording_events(
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    settings: NamedDependency[GatewaySettings],
    quotas: NamedDependency[Quotas],
    bus: NamedDependency[Bus],
    metrics: NamedDependency[GatewayMetrics],
    recording_id: RecordingId,
    last_event_id: LastEventId = None,
    after: ResumeAfter = None,
) -> ServerSentEvent:
    after_seq = parse_seq(last_event_id or after or "0", "Last-Event-ID", "invalid_last_event_id")
    row = await fresh.recording(tenant, recording_id)
    slot = quotas.sse_streams.acquire(tenant)
    events = bus.follow(row.recording_id, after_seq, settings.sse_keepalive_s)
    return sse_response((await sse_frame(bus, msg) async for msg in events), events, slot, metrics)


def sse_response(
    frames: AsyncIterator[ServerSentEventMessage], follow: AsyncGenerator, slot: Slot, metrics: GatewayMetrics
) -> ServerSentEvent:
    """A stream of `frames` (made from `follow`) that counts its client and frees its quota slot however it ends."""

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        metrics.sse_clients.inc()
        try:
            async for frame in frames:
                yield frame
        finally:
            metrics.sse_clients.dec()
            slot.release()
            await follow.aclose()

    body = stream()
    slot.bind(body)  # a stream that never starts (the client left first) still frees its slot
    return ServerSentEvent(body, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
