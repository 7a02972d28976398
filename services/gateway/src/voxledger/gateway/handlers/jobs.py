"""/v1/jobs: a job's status, stage, progress, ETA, attempt, queue position and error."""

from datetime import datetime
from typing import Annotated, Literal

from litestar import Request, get, post
from litestar.params import Parameter

from voxledger.contracts.commands import CancelTranscription
from voxledger.gateway import schemas
from voxledger.gateway.domain.errors import Conflict
from voxledger.gateway.domain.pagination import decode_cursor, encode_cursor
from voxledger.gateway.handlers.common import fetch_fresh, valid_id
from voxledger.gateway.http.consistency import issue_token
from voxledger.gateway.http.params import Cursor, JobId, MinSeq


@get("/v1/jobs", summary="List the tenant's jobs, newest first")
async def list_jobs(
    request: Request,
    tenant: str,
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    cursor: Cursor = None,
    status: Literal["queued", "running", "completed", "failed", "cancelled"] | None = None,
    created_after: datetime | None = None,
    min_seq: MinSeq = None,  # noqa: ARG001 (the consistency hook reads it)
) -> schemas.JobPage:
    before = decode_cursor(cursor) if cursor else None
    rows = await request.app.state.readmodels.jobs(tenant, limit + 1, before, status, created_after)
    items = [schemas.job_view(r) for r in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1]["job_id"]) if len(rows) > limit else None
    return schemas.JobPage(items=items, next_cursor=next_cursor)


@get("/v1/jobs/{job_id:str}", summary="A transcription job")
async def get_job(request: Request, tenant: str, job_id: JobId, min_seq: MinSeq = None) -> schemas.Job:  # noqa: ARG001
    job_id = valid_id(job_id, "job")
    state = request.app.state
    readmodels = state.readmodels
    row = await fetch_fresh(
        lambda: readmodels.job(tenant, job_id), job_id, state.settings.fresh_id_wait_s, "job", state.notifier
    )
    position = await readmodels.queue_position(job_id) if row["status"] == "queued" else None
    return schemas.job_view(row, position)


@post("/v1/jobs/{job_id:str}/cancel", status_code=202, summary="Cancel a queued or running job")
async def cancel_job(request: Request, tenant: str, job_id: JobId) -> schemas.CancelAccepted:
    job_id = valid_id(job_id, "job")
    state = request.app.state
    readmodels = state.readmodels
    row = await fetch_fresh(
        lambda: readmodels.job(tenant, job_id), job_id, state.settings.fresh_id_wait_s, "job", state.notifier
    )
    if row["status"] in ("completed", "failed"):
        raise Conflict("job_finished", f"the job already {row['status']}; there is nothing to cancel")
    if row["status"] != "cancelled":
        command = CancelTranscription(recording_id=row["recording_id"], job_id=job_id)
        token = await request.app.state.bus.send(
            command, aggregate_id=row["recording_id"], tenant=tenant, dedup_key=f"cancel:{job_id}"
        )
        issue_token(request, token)
    status = "cancelled" if row["status"] == "cancelled" else "cancelling"
    return schemas.CancelAccepted(job_id=job_id, recording_id=row["recording_id"], status=status)


@get("/v1/queue", summary="The tenant's queued and running jobs, with queue position and ETA")
async def get_queue(request: Request, tenant: str) -> schemas.Queue:
    rows = await request.app.state.readmodels.active_jobs(tenant)
    return schemas.Queue(items=[schemas.job_view(r, r["queue_position"]) for r in rows])
