"""/v1/jobs: a job's status, stage, progress, ETA, attempt, queue position and error."""

from litestar import Request, get

from voxledger.gateway import views
from voxledger.gateway.handlers.common import fetch_fresh, valid_id


@get("/v1/jobs/{job_id:str}", summary="A transcription job")
async def get_job(request: Request, tenant: str, job_id: str) -> views.Job:
    job_id = valid_id(job_id, "job")
    readmodels = request.app.state.readmodels
    row = await fetch_fresh(
        lambda: readmodels.job(tenant, job_id), job_id, request.app.state.settings.fresh_id_wait_s, "job"
    )
    position = await readmodels.queue_position(job_id) if row["status"] == "queued" else None
    return views.job_view(row, position)
