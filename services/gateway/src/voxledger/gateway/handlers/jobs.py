"""/v1/jobs: a job's status, stage, progress, ETA, attempt, queue position and error."""

from datetime import datetime
from typing import Annotated

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter

from voxledger.contracts.commands import CancelTranscription
from voxledger.contracts.statuses import JobStatus
from voxledger.gateway import schemas
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.domain import queue
from voxledger.gateway.domain.errors import Conflict
from voxledger.gateway.domain.pagination import decode_cursor, encode_cursor
from voxledger.gateway.handlers.common import FreshReads
from voxledger.gateway.http.consistency import issue_token
from voxledger.gateway.http.params import Cursor, JobId


@get("/jobs", summary="List the tenant's jobs, newest first", opt={"scope": "read"})
async def list_jobs(
    tenant: NamedDependency[str],
    readmodels: NamedDependency[ReadModels],
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    cursor: Cursor = None,
    status: FromQuery[JobStatus | None] = None,
    created_after: FromQuery[datetime | None] = None,
) -> schemas.JobPage:
    before = decode_cursor(cursor) if cursor else None
    rows = await readmodels.jobs.page(tenant, limit + 1, before, status, created_after)
    return schemas.JobPage.of(rows, limit, schemas.job_view, lambda r: encode_cursor(r.job_id))


@get("/jobs/{job_id:str}", summary="A transcription job", opt={"scope": "read"})
async def get_job(tenant: NamedDependency[str], fresh: NamedDependency[FreshReads], job_id: JobId) -> schemas.Job:  # noqa: ARG001
    row = await fresh.job(tenant, job_id)
    if row.status != "queued":
        return schemas.job_view(row)
    placed = queue.view(await fresh.readmodels.jobs.queue_state())
    return schemas.job_view(row, *placed.get(row.job_id, (None, None)))


@post("/jobs/{job_id:str}/cancel", status_code=202, summary="Cancel a queued or running job", opt={"scope": "member"})
async def cancel_job(
    request: Request,
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    job_id: JobId,
) -> schemas.CancelAccepted:
    row = await fresh.job(tenant, job_id)
    job_id = row.job_id
    if row.status in ("completed", "failed"):
        raise Conflict("job_finished", f"the job already {row.status}; there is nothing to cancel")
    if row.status != "cancelled":
        command = CancelTranscription(recording_id=row.recording_id, job_id=job_id)
        token = await bus.send(command, aggregate_id=row.recording_id, tenant=tenant, dedup_key=f"cancel:{job_id}")
        issue_token(request, token)
    status = "cancelled" if row.status == "cancelled" else "cancelling"
    return schemas.CancelAccepted(job_id=job_id, recording_id=row.recording_id, status=status)


@get("/queue", summary="The tenant's queued and running jobs, with queue position and ETA", opt={"scope": "read"})
async def get_queue(tenant: NamedDependency[str], readmodels: NamedDependency[ReadModels]) -> schemas.Queue:
    rows = await readmodels.jobs.active_jobs(tenant)
    placed = queue.view(await readmodels.jobs.queue_state()) if any(r.status == "queued" for r in rows) else {}
    return schemas.Queue(items=[schemas.job_view(r, *placed.get(r.job_id, (None, None))) for r in rows])
