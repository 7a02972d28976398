"""GET /v1/recordings/{id}/audio: the recording's audio as uploaded, streamed from the Object Store, with byte ranges
(the web app's player seeks with them); POST .../audio-link: a short-lived link to it that needs no key
(domain/audio_links.py), for an `<audio src>`, which cannot send one."""

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import Stream
from nats.js.errors import ObjectNotFoundError

from voxledger.gateway.adapters.bus import Bus, audio_key
from voxledger.gateway.domain.audio_links import AudioLinks, LinkClaims
from voxledger.gateway.domain.byte_range import byte_range
from voxledger.gateway.domain.errors import not_found
from voxledger.gateway.handlers.common import FreshReads
from voxledger.gateway.http.params import RecordingId
from voxledger.gateway.settings import GatewaySettings

ByteRange = Annotated[
    str | None,
    HeaderParameter(
        name="Range",
        required=False,
        max_length=200,
        description="One byte range (`bytes=0-1023`, `bytes=1024-`, `bytes=-512`): 206 with those bytes. "
        "A range outside the audio is a 416; one not understood is ignored (200, the whole audio)",
    ),
]
AudioLinkToken = Annotated[
    str | None,
    QueryParameter(
        required=False,
        max_length=512,
        description="A token from `POST .../audio-link`, instead of the Authorization header (this route only): "
        "a wrong, expired or other recording's token is a 401 `invalid_audio_link`",
    ),
]
PARTIAL = ResponseSpec(
    data_container=str, description="The bytes asked for", media_type="audio/*", generate_examples=False
)


@get(
    "/recordings/{recording_id:str}/audio",
    summary="The recording's audio; supports a byte Range",
    responses={206: PARTIAL},
    opt={"scope": "read"},
)
async def get_audio(
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    recording_id: RecordingId,
    range_: ByteRange = None,
    link: AudioLinkToken = None,  # checked by the auth guard, before this runs
) -> Response:
    row = await fresh.recording(tenant, recording_id)  # the tenant's own, or 404
    key = audio_key(row.recording_id)
    size = await bus.audio_size(key)
    if not size:
        raise _no_audio()
    asked = byte_range(range_, size)
    start, end = asked or (0, size - 1)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1), "Cache-Control": "private, no-store"}
    if asked:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    pieces = bus.read_audio(key, start, end)
    try:
        first = await anext(pieces)  # before the status line: audio deleted meanwhile is a 404, not a cut-off 200
    except ObjectNotFoundError:
        raise _no_audio() from None
    return Stream(
        _prepended(first, pieces),
        status_code=206 if asked else 200,
        media_type=row.content_type or "application/octet-stream",
        headers=headers,
    )


def _no_audio() -> Exception:
    return not_found("audio", "this recording has no stored audio")


async def _prepended(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for piece in rest:
        yield piece


class AudioLink(msgspec.Struct, kw_only=True):
    url: str  # the audio, with the link's token: an `<audio src>` as it is
    expires_at: datetime


@post(
    "/recordings/{recording_id:str}/audio-link",
    status_code=200,
    summary="A link to the recording's audio that needs no key, for minutes (for an <audio src>)",
    opt={"scope": "read"},
)
async def create_audio_link(
    request: Request,
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    settings: NamedDependency[GatewaySettings],
    audio_links: NamedDependency[AudioLinks],
    recording_id: RecordingId,
) -> AudioLink:
    """Any key that may read the recording may link to it; the link ends no later than the key does."""
    row = await fresh.recording(tenant, recording_id)  # the tenant's own, or 404
    expires = int(time.time()) + settings.audio_link_ttl_s
    if (key_expires := request.scope["state"].get("key_expires_at")) is not None:
        expires = min(expires, int(key_expires.timestamp()))
    rid = row.recording_id
    token = audio_links.sign(rid, LinkClaims(tenant=tenant, key_id=request.scope["state"]["key_id"], expires=expires))
    return AudioLink(url=f"/v1/recordings/{rid}/audio?link={token}", expires_at=datetime.fromtimestamp(expires, UTC))
