"""A recording as a library item: a name, tags and a folder that a person sets (`PATCH /v1/recordings/{id}`).

They are sealed in the log like the filename, replayed like every event, and what the list filters by; exports
are named after the name, and several recordings' transcripts download as one zip (`GET /v1/recordings/export`).
"""

import io
import zipfile
from typing import Annotated, Literal

import msgspec
from litestar import Request, Response, get, patch
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, Parameter

from voxledger.contracts.commands import DescribeRecording
from voxledger.contracts.ids import new_id
from voxledger.gateway import schemas
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.domain.downloads import attachment, file_name
from voxledger.gateway.domain.errors import Conflict, Unacceptable
from voxledger.gateway.domain.validation import check_text
from voxledger.gateway.handlers.common import FreshReads
from voxledger.gateway.handlers.recordings import RENDERERS, labelled_segments
from voxledger.gateway.http.consistency import issue_token
from voxledger.gateway.http.params import IdempotencyKey, RecordingId

MAX_NAME_CHARS, MAX_FOLDER_CHARS, MAX_TAG_CHARS, MAX_TAGS = 200, 100, 40, 20
MAX_EXPORTED = 50  # recordings in one zip: a page of the list, selected


def checked_description(body: schemas.RecordingDescription) -> DescribeRecording:
    """The request's fields, trimmed and checked (422 with a code); the recording id is the caller's to set."""
    if body.name is None and body.tags is None and body.folder is None:
        raise Unacceptable("nothing_to_change", "give `name`, `tags` or `folder`", "name")
    name = None if body.name is None else check_text(body.name.strip(), "name", MAX_NAME_CHARS)
    folder = None if body.folder is None else check_text(body.folder.strip(), "folder", MAX_FOLDER_CHARS)
    tags = None
    if body.tags is not None:
        if len(body.tags) > MAX_TAGS:
            raise Unacceptable("too_many_tags", f"at most {MAX_TAGS} tags", "tags")
        tags = [check_text(t.strip(), "tags", MAX_TAG_CHARS) for t in body.tags]
        if not all(tags):
            raise Unacceptable("invalid_tag", "a tag is not empty", "tags")
    return DescribeRecording(recording_id="", name=name, tags=tags, folder=folder)


@patch(
    "/recordings/{recording_id:str}",
    status_code=202,
    summary="Rename, tag or file a recording",
    opt={"scope": "member"},
)
async def describe_recording(
    request: Request,
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    recording_id: RecordingId,
    data: JSONBody[schemas.RecordingDescription],
    idempotency_key: IdempotencyKey = None,
) -> schemas.RecordingDescribed:
    checked = checked_description(data)
    row = await fresh.recording(tenant, recording_id)
    command = DescribeRecording(
        recording_id=row.recording_id, name=checked.name, tags=checked.tags, folder=checked.folder
    )
    # Each request is its own change (renaming back and forth must not be deduplicated), unless retried by key.
    dedup = f"describe:{row.recording_id}:{idempotency_key or new_id()}"
    issue_token(request, await bus.send(command, aggregate_id=row.recording_id, tenant=tenant, dedup_key=dedup))
    after = msgspec.structs.replace(
        row,
        name=row.name if checked.name is None else checked.name,
        tags=row.tags if checked.tags is None else list(dict.fromkeys(checked.tags)),
        folder=row.folder if checked.folder is None else checked.folder,
    )
    view = schemas.recording_view(after)
    return schemas.RecordingDescribed(recording_id=row.recording_id, name=view.name, tags=view.tags, folder=view.folder)


@get(
    "/recordings/export",
    summary="Several recordings' transcripts as one zip",
    opt={"scope": "read"},
)
async def export_recordings(
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    recording_id: FromQuery[Annotated[list[str], Parameter(min_items=1, max_items=MAX_EXPORTED)]],
    format: FromQuery[Literal["txt", "srt", "vtt"]] = "txt",  # noqa: A002
) -> Response:
    """Each recording's newest completed transcript as `<name>.<format>` (one file per recording, in the order
    given); a recording without one is named in `not-transcribed.txt`. Any id not the caller's is a 404."""
    buffer = io.BytesIO()
    names: set[str] = set()
    missing: list[str] = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for wanted in dict.fromkeys(recording_id):
            row = await fresh.recording(tenant, wanted)
            job = await fresh.readmodels.jobs.latest_completed_job(tenant, row.recording_id)
            if job is None:
                missing.append(schemas.display_name(row))
                continue
            text = RENDERERS[format](await labelled_segments(fresh.readmodels, tenant, job))
            archive.writestr(_unique(file_name(schemas.download_stem(row), format), names), text)
        if not names:
            raise Conflict("transcript_not_ready", "none of these recordings has a completed transcript")
        if missing:
            archive.writestr("not-transcribed.txt", "\n".join(missing) + "\n")
    headers = {"Content-Disposition": attachment("recordings", "zip")}
    return Response(buffer.getvalue(), media_type="application/zip", headers=headers)


def _unique(file_name: str, taken: set[str]) -> str:
    """`name.srt`, or `name (2).srt` and on where recordings share a name."""
    stem, _, extension = file_name.rpartition(".")
    candidate, n = file_name, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem} ({n}).{extension}"
    taken.add(candidate)
    return candidate
