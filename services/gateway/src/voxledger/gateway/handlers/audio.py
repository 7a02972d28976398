"""GET /v1/recordings/{id}/audio: the recording's audio as uploaded, streamed from the Object Store, with byte ranges
(the web app's player seeks with them)."""

from typing import Annotated

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.response import Stream

from voxledger.gateway.adapters.bus import Bus, audio_key
from voxledger.gateway.domain.byte_range import byte_range
from voxledger.gateway.domain.errors import not_found
from voxledger.gateway.handlers.common import FreshReads
from voxledger.gateway.http.params import RecordingId

ByteRange = Annotated[
    str | None,
    Parameter(
        header="Range",
        required=False,
        max_length=200,
        description="One byte range (`bytes=0-1023`, `bytes=1024-`, `bytes=-512`): 206 with those bytes. "
        "A range outside the audio is a 416; one not understood is ignored (200, the whole audio)",
    ),
]
PARTIAL = ResponseSpec(
    data_container=str, description="The bytes asked for", media_type="audio/*", generate_examples=False
)


@get(
    "/recordings/{recording_id:str}/audio",
    summary="The recording's audio; supports a byte Range",
    responses={206: PARTIAL},
)
async def get_audio(
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    recording_id: RecordingId,
    range_: ByteRange = None,
) -> Response:
    row = await fresh.recording(tenant, recording_id)  # the tenant's own, or 404
    key = audio_key(row["recording_id"])
    size = await bus.audio_size(key)
    if not size:
        raise not_found("audio", "this recording has no stored audio")
    asked = byte_range(range_, size)
    start, end = asked or (0, size - 1)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1), "Cache-Control": "private, no-store"}
    if asked:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Stream(
        bus.read_audio(key, start, end),
        status_code=206 if asked else 200,
        media_type=row["content_type"] or "application/octet-stream",
        headers=headers,
    )
