"""GET /v1/recordings/{id}/audio: the recording's audio as uploaded, streamed from the Object Store, with byte ranges
(the web app's player seeks with them)."""

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Stream

from voxledger.gateway.adapters.bus import Bus, audio_key
from voxledger.gateway.domain.byte_range import byte_range
from voxledger.gateway.domain.errors import not_found
from voxledger.gateway.handlers.common import FreshReads
from voxledger.gateway.http.params import RecordingId


@get("/recordings/{recording_id:str}/audio", summary="The recording's audio; supports a byte Range", status_code=200)
async def get_audio(
    request: Request,
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    recording_id: RecordingId,
) -> Response:
    row = await fresh.recording(tenant, recording_id)  # the tenant's own, or 404
    key = audio_key(row["recording_id"])
    size = await bus.audio_size(key)
    if not size:
        raise not_found("audio", "this recording has no stored audio")
    asked = byte_range(request.headers.get("range"), size)
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
