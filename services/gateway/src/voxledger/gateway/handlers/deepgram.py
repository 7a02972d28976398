"""Deepgram's listen API for Deepgram's SDKs: WS /v1/listen is an ordinary live session, POST /v1/listen an
ordinary job (answered once it has ended, as the OpenAI routes are).

The socket is the live socket's connection (handlers/live.py) with Deepgram's start (its query parameters),
control messages (KeepAlive, Finalize, CloseStream) and messages (domain/deepgram.py)."""

from datetime import UTC, datetime

import msgspec
from litestar import Request, Response, WebSocket, post, websocket
from litestar.di import NamedDependency
from litestar.types.asgi_types import WebSocketResponseBodyEvent, WebSocketResponseStartEvent
from nats.aio.client import Client as Nats

from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.live import LiveBus
from voxledger.gateway.adapters.multipart import read_body
from voxledger.gateway.domain import deepgram
from voxledger.gateway.domain import live_protocol as proto
from voxledger.gateway.domain.errors import DomainError
from voxledger.gateway.domain.models import ModelCatalog
from voxledger.gateway.domain.options import job_options
from voxledger.gateway.handlers.live import LiveConnection, run_connection
from voxledger.gateway.handlers.live_channel import LiveChannel
from voxledger.gateway.handlers.openai import JobAnswers
from voxledger.gateway.handlers.recordings import accept_upload, checked_audio, read_form
from voxledger.gateway.http.auth import AuthLimits, KeyResolver, bearer_key, refusal
from voxledger.gateway.http.errors import DEEPGRAM_PATH, PROBLEM_JSON, ApiError, from_domain, route_problem
from voxledger.gateway.http.params import IdempotencyKey
from voxledger.gateway.http.quotas import Quotas
from voxledger.gateway.http.state import app_state
from voxledger.gateway.settings import GatewaySettings

CONTROL_TYPES = ("KeepAlive", "Finalize", "CloseStream")


class Control(msgspec.Struct):
    type: str


_control = msgspec.json.Decoder(Control)


def _error_frame(code: str, message: str, fatal: bool) -> dict:
    return deepgram.error_message(code, message)


class DeepgramConnection(LiveConnection):
    """A live session started by the socket's query parameters, in Deepgram's messages. Deepgram's clients
    cannot resume a session: one whose client went away ends at once (LiveConnection: `messages` is set)."""

    def __init__(self, socket: WebSocket, options: deepgram.LiveOptions, model: str, **parts):
        super().__init__(socket, **parts)
        self._channel = LiveChannel(socket, _error_frame)
        self._options = options
        self._deepgram = deepgram.DeepgramMessages(options, model, datetime.now(UTC))
        self.messages = self._deepgram

    async def _open(self, tenant: str) -> bool:
        options = self._options
        start = proto.Start(
            sample_rate=options.sample_rate,
            language=options.language,
            model=options.model,
            endpointing_ms=round((options.endpointing_s or 0) * 1000),
            utterance_end_ms=round((options.utterance_end_s or 1.0) * 1000),
        )
        try:
            return await self._start(tenant, start)
        except proto.ProtocolError as err:
            await self._channel.fail(proto.ProtocolError(err.code, err.message, fatal=True))
            return False

    async def _ready(self, ready: dict) -> None:
        self._deepgram.request_id = str(ready["session_id"])  # Deepgram sends nothing until the first result

    async def _control(self, text: str) -> str | None:
        try:
            kind = _control.decode(text).type
        except msgspec.MsgspecError:
            raise proto.ProtocolError("malformed_message", "a text frame must be a JSON object with a `type`") from None
        if kind not in CONTROL_TYPES:
            raise proto.ProtocolError("unexpected_message", f"expected one of {', '.join(CONTROL_TYPES)}")
        if kind == "Finalize":  # what the worker heard so far becomes final now; KeepAlive only keeps the socket
            await self._bus.publish_finalize(self._session[0], self._offset)
        return "stopped" if kind == "CloseStream" else None


async def _admitted(
    socket: WebSocket, catalog: ModelCatalog, key_resolver: KeyResolver
) -> deepgram.LiveOptions | ApiError:
    """The socket's options, or why its handshake is refused: options it cannot have, no key or one not valid
    (counted against the address as an HTTP request's is). The key is checked again once accepted, with its scope."""
    try:
        options = deepgram.live_options(catalog, dict(socket.query_params))
    except DomainError as err:
        return from_domain(err)
    key = bearer_key(socket.headers.get("authorization", ""))
    if key is None:
        return ApiError(401, "unauthorized", "send `Authorization: Token <api key>`")
    if await key_resolver.resolve(key) is None:
        limits: AuthLimits = app_state(socket.scope).auth_limits
        return refusal(
            limits, limits.address(socket.scope), ApiError(401, "invalid_api_key", "the API key is not valid")
        )
    return options


async def _deny(socket: WebSocket, err: ApiError) -> None:
    """Refuses the handshake with an HTTP answer in Deepgram's shape, as Deepgram does: its SDKs raise on the status."""
    body = msgspec.json.encode(route_problem(DEEPGRAM_PATH, err.status, err.code, err.detail, err.field))
    await socket.receive()  # the handshake's `websocket.connect`
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    start: WebSocketResponseStartEvent = {
        "type": "websocket.http.response.start",
        "status": err.status,
        "headers": headers,
    }
    await socket.send(start)
    await socket.send(WebSocketResponseBodyEvent(type="websocket.http.response.body", body=body, more_body=False))


@websocket(DEEPGRAM_PATH.removeprefix("/v1"))
async def deepgram_socket(
    socket: WebSocket,
    settings: NamedDependency[GatewaySettings],
    nc: NamedDependency[Nats],
    key_resolver: NamedDependency[KeyResolver],
    quotas: NamedDependency[Quotas],
    catalog: NamedDependency[ModelCatalog],
    bus: NamedDependency[Bus],
) -> None:
    options = await _admitted(socket, catalog, key_resolver)
    if isinstance(options, ApiError):
        await _deny(socket, options)
        return
    await socket.accept()
    parts = {"settings": settings, "bus": LiveBus(nc, bus.vault), "key_resolver": key_resolver, "quotas": quotas}
    model = options.model or catalog.default
    await run_connection(DeepgramConnection(socket, options, model, catalog=catalog, **parts))


@post(
    DEEPGRAM_PATH.removeprefix("/v1"),
    status_code=200,
    summary="Deepgram-compatible: transcribe the audio in the body, answering when its job has ended",
    request_max_body_size=None,  # streamed, and capped while it streams
    opt={"scope": "member"},
)
async def transcribe_prerecorded(
    request: Request,
    tenant: NamedDependency[str],
    catalog: NamedDependency[ModelCatalog],
    answers: NamedDependency[JobAnswers],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    if request.headers.get("content-type", "").startswith("application/json"):
        raise ApiError(400, "url_source_unsupported", "a `url` source is not supported: send the audio as the body")
    asked = deepgram.prerecorded_options(catalog, dict(request.query_params))
    form = await read_form(request, answers.settings, answers.quotas, tenant, parse=read_body)
    try:
        detected = checked_audio(form)
        options = job_options(catalog, asked.model, asked.language, word_timestamps=True)
        slot = answers.quotas.sse_streams.acquire(tenant)  # the request holds a subscription, as a stream does
    except BaseException:
        form.close()
        raise
    try:
        accepted = await accept_upload(
            request, tenant, form, detected, options, answers.quotas, answers.bus, answers.metrics, idempotency_key
        )
        job, segments = await answers.completed(tenant, accepted)
    finally:
        slot.release()
    recording_id = accepted.recording_id
    metadata = deepgram.response_metadata(
        recording_id, job.created_at, job.duration_s or 0.0, job.model or catalog.default
    )
    body = deepgram.prerecorded_body(metadata, segments, job.language, asked.utterances)
    headers = {"dg-request-id": recording_id, "X-Recording-Id": recording_id, "X-Job-Id": str(accepted.job_id)}
    return Response(body, headers=headers)
