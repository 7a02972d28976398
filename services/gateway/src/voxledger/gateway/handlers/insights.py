"""/v1/recordings/{id}/insights: refined text, analytics, action items and summary, per job."""

from typing import cast

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from voxledger.contracts.commands import RequestInsights
from voxledger.contracts.ids import new_id
from voxledger.contracts.insights import INSIGHT_KINDS, InsightKind
from voxledger.contracts.readmodels import JobRow
from voxledger.gateway import schemas
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.idempotency import fingerprint, reserve
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.domain.errors import Conflict, Malformed, not_found
from voxledger.gateway.domain.validation import check_strings
from voxledger.gateway.handlers.common import FreshReads, valid_id
from voxledger.gateway.http.consistency import issue_token
from voxledger.gateway.http.params import IdempotencyKey, OptionalJobId, RecordingId
from voxledger.gateway.http.quotas import Quotas


async def _completed_job(readmodels: ReadModels, tenant: str, recording_id: str, job_id: str | None) -> JobRow:
    if job_id is None:
        job = await readmodels.jobs.latest_completed_job(tenant, recording_id)
        if job is None:
            raise Conflict("transcript_not_ready", "no transcription of this recording has completed")
        return job
    job = await readmodels.jobs.get(tenant, valid_id(job_id, "job"))
    if job is None or job.recording_id != recording_id:
        raise not_found("job", "no such job for this recording")
    if job.status != "completed":
        raise Conflict("job_not_completed", f"insights need a completed job; this one is {job.status}")
    return job


@get(
    "/recordings/{recording_id:str}/insights",
    summary="Refined text, analytics, action items and summary",
    opt={"scope": "read"},
)
async def get_insights(
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    recording_id: RecordingId,
    job_id: OptionalJobId = None,
) -> schemas.Insights:
    recording = await fresh.recording(tenant, recording_id)
    job = await _completed_job(fresh.readmodels, tenant, recording.recording_id, job_id)
    rows = await fresh.readmodels.transcripts.insights(tenant, job.job_id)
    return schemas.Insights(
        recording_id=recording.recording_id,
        job_id=job.job_id,
        run_id=rows[0].run_id if rows else None,
        status=schemas.insights_status([r.status for r in rows]),
        insights={r.kind: schemas.insight_view(r) for r in rows},
    )


def _kinds(body: schemas.InsightsRequest) -> list[InsightKind]:
    kinds = body.kinds or list(INSIGHT_KINDS)
    if unknown := sorted(set(kinds) - set(INSIGHT_KINDS)):
        raise Malformed("invalid_kind", f"unknown insight kinds {unknown}; known: {list(INSIGHT_KINDS)}")
    return cast(list[InsightKind], kinds)


@post(
    "/recordings/{recording_id:str}/insights",
    status_code=202,
    summary="Run post-processing again",
    opt={"scope": "member"},
)
async def request_insights(
    request: Request,
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    quotas: NamedDependency[Quotas],
    bus: NamedDependency[Bus],
    recording_id: RecordingId,
    data: JSONBody[schemas.InsightsRequest | None] = None,
    idempotency_key: IdempotencyKey = None,
) -> schemas.InsightsAccepted:
    body = data or schemas.InsightsRequest()
    check_strings(body, "")
    kinds = _kinds(body)
    recording = await fresh.recording(tenant, recording_id)
    recording_id = recording.recording_id
    job = await _completed_job(fresh.readmodels, tenant, recording_id, body.job_id)
    await quotas.check_insight_runs(tenant)
    await quotas.check_event_log(tenant)
    ids = await reserve(
        bus.js,
        tenant,
        f"insights:{recording_id}",
        idempotency_key,
        fingerprint(job.job_id, sorted(kinds)),
        lambda: {"run_id": new_id()},
    )
    run_id = str(ids["run_id"])
    command = RequestInsights(recording_id=recording_id, job_id=job.job_id, run_id=run_id, kinds=kinds)
    issue_token(request, await bus.send(command, aggregate_id=recording_id, tenant=tenant, dedup_key=run_id))
    links = schemas.recording_links(recording_id, job.job_id)
    accepted = schemas.InsightsAccepted(
        recording_id=recording_id, job_id=job.job_id, run_id=run_id, kinds=[*kinds], links=links
    )
    return accepted
