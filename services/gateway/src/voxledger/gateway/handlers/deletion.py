"""DELETE /v1/recordings/{id}: the recording, its audio, jobs, transcripts and insights."""

from litestar import Request, delete
from litestar.di import NamedDependency

from voxledger.contracts.commands import DeleteRecording
from voxledger.gateway import schemas
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.handlers.common import FreshReads
from voxledger.gateway.http.consistency import issue_token
from voxledger.gateway.http.params import RecordingId


@delete(
    "/recordings/{recording_id:str}",
    status_code=202,
    summary="Delete a recording and everything from it",
    opt={"scope": "member"},
)
async def delete_recording(
    request: Request,
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    recording_id: RecordingId,
) -> schemas.DeleteAccepted:
    row = await fresh.recording(tenant, recording_id)
    command = DeleteRecording(recording_id=row.recording_id)
    token = await bus.send(
        command, aggregate_id=row.recording_id, tenant=tenant, dedup_key=f"delete:{row.recording_id}"
    )
    issue_token(request, token)
    return schemas.DeleteAccepted(recording_id=row.recording_id, status="deleting")
