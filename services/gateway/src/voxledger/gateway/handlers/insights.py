"""/v1/recordings/{id}/insights: refined text, analytics, action items and summary, per job."""

from litestar import Request, get, post

from voxledger.contracts.commands import RequestInsights
from voxledger.contracts.ids import new_id
from voxledger.contracts.insights import INSIGHT_KINDS
from voxledger.gateway import schemas
from voxledger.gateway.adapters.idempotency import fingerprint, reserve
from voxledger.gateway.domain.errors import Conflict, Malformed, not_found
from voxledger.gateway.domain.validation import check_strings
from voxledger.gateway.handlers.common import fetch_recording, valid_id
from voxledger.gateway.http.consistency import issue_token
from voxledger.gateway.http.params import IdempotencyKey, MinSeq, OptionalJobId, RecordingId


async def _completed_job(request: Request, tenant: str, recording_id: str, job_id: str | None):
    readmodels = request.app.state.readmodels
    if job_id is None:
        job = await readmodels.latest_completed_job(tenant, recording_id)
        if job is None:
            raise Conflict("transcript_not_ready", "no transcription of this recording has completed")
        return job
    job = await readmodels.job(tenant, valid_id(job_id, "job"))
    if job is None or job["recording_id"] != recording_id:
        raise not_found("job", "no such job for this recording")
    if job["status"] != "completed":
        raise Conflict("job_not_completed", f"insights need a completed job; this one is {job['status']}")
    return job


@get("/v1/recordings/{recording_id:str}/insights", summary="Refined text, analytics, action items and summary")
async def get_insights(
    request: Request,
    tenant: str,
    recording_id: RecordingId,
    job_id: OptionalJobId = None,
    min_seq: MinSeq = None,  # noqa: ARG001 (the consistency hook reads it)
) -> schemas.Insights:
    recording = await fetch_recording(request, tenant, recording_id)
    job = await _completed_job(request, tenant, recording["recording_id"], job_id)
    rows = await request.app.state.readmodels.insights(tenant, job["job_id"])
    return schemas.Insights(
        recording_id=recording["recording_id"],
        job_id=job["job_id"],
        run_id=rows[0]["run_id"] if rows else None,
        status=schemas.insights_status([r["status"] for r in rows]),
        insights={r["kind"]: schemas.insight_view(r) for r in rows},
    )


@post("/v1/recordings/{recording_id:str}/insights", status_code=202, summary="Run post-processing again")
async def request_insights(
    request: Request,
    tenant: str,
    recording_id: RecordingId,
    data: schemas.InsightsRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> schemas.InsightsAccepted:
    body = data or schemas.InsightsRequest()
    check_strings(body, "")
    kinds = body.kinds or list(INSIGHT_KINDS)
    if unknown := sorted(set(kinds) - set(INSIGHT_KINDS)):
        raise Malformed("invalid_kind", f"unknown insight kinds {unknown}; known: {list(INSIGHT_KINDS)}")
    recording = await fetch_recording(request, tenant, recording_id)
    job = await _completed_job(request, tenant, recording["recording_id"], body.job_id)
    await request.app.state.quotas.check_insight_runs(tenant)
    ids = await reserve(
        request.app.state.bus.js,
        tenant,
        f"insights:{recording['recording_id']}",
        idempotency_key,
        fingerprint(job["job_id"], sorted(kinds)),
        lambda: {"run_id": new_id()},
    )
    run_id = ids["run_id"]
    command = RequestInsights(recording_id=recording["recording_id"], job_id=job["job_id"], run_id=run_id, kinds=kinds)
    issue_token(request, await request.app.state.bus.send(command, aggregate_id=recording["recording_id"], tenant=tenant, dedup_key=run_id))
    links = schemas.recording_links(recording["recording_id"], job["job_id"])
    return schemas.InsightsAccepted(
        recording_id=recording["recording_id"], job_id=job["job_id"], run_id=run_id, kinds=kinds, links=links
    )
