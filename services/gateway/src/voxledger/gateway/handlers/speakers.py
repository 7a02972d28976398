"""/v1/recordings/{id}/speakers and /diarization: name and merge a job's speaker labels (an event of the
recording), and diarize a completed job again without transcribing it again."""

import uuid

import msgspec
from litestar import Request, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from voxledger.contracts.commands import NameSpeakers, RequestDiarization
from voxledger.contracts.events import TranscriptionOptions
from voxledger.contracts.ids import new_id
from voxledger.contracts.speakers import resolve
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.domain.errors import Conflict, Unacceptable
from voxledger.gateway.domain.speakers import check_names, check_speakers
from voxledger.gateway.handlers.common import FreshReads
from voxledger.gateway.handlers.recordings import transcript_job
from voxledger.gateway.http.consistency import issue_token
from voxledger.gateway.http.params import IdempotencyKey, RecordingId

RUN_IDS = uuid.UUID("5e0c1d2a-8f4b-4c47-9a51-6d1f3b2e7a90")  # namespace of run ids derived from Idempotency-Keys


class SpeakerNamesRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`names`: label -> display name (S1 -> "Maria"); `merge`: label -> the label it joins (S3 -> S1)."""

    job_id: str | None = None
    names: dict[str, str] = msgspec.field(default_factory=dict)
    merge: dict[str, str] = msgspec.field(default_factory=dict)


class SpeakerNamesAccepted(msgspec.Struct, kw_only=True):
    recording_id: str
    job_id: str
    speakers: dict[str, str]  # every label and the name it will show as


class DiarizationRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A re-run's options: `speakers` (auto, the default here, or a count) and bounds on the estimate."""

    job_id: str | None = None
    speakers: str | int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None


class DiarizationAccepted(msgspec.Struct, kw_only=True):
    recording_id: str
    job_id: str
    run_id: str
    status: str  # diarizing: the job's turns are replaced once SpeakersDiarized (with this run_id) is in


@post(
    "/recordings/{recording_id:str}/diarization",
    status_code=202,
    summary="Diarize a completed job again",
    opt={"scope": "member"},
)
async def request_diarization(
    request: Request,
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    recording_id: RecordingId,
    data: JSONBody[DiarizationRequest | None] = None,
    idempotency_key: IdempotencyKey = None,
) -> DiarizationAccepted:
    body = data or DiarizationRequest()
    diarize, lo, hi = check_speakers(body.speakers, body.min_speakers, body.max_speakers)
    row = await fresh.recording(tenant, recording_id)
    job = await transcript_job(fresh.readmodels, tenant, row, body.job_id)
    if job.status != "completed":
        raise Conflict("job_not_completed", f"diarization runs again on a completed job; this one is {job.status}")
    options = TranscriptionOptions(speakers="auto" if diarize == "off" else diarize, min_speakers=lo, max_speakers=hi)
    # A retry with the same Idempotency-Key is the same run; without one, each request is a run of its own.
    run_id = str(uuid.uuid5(RUN_IDS, f"{tenant}:{idempotency_key}")) if idempotency_key else new_id()
    command = RequestDiarization(recording_id=row.recording_id, job_id=job.job_id, run_id=run_id, options=options)
    token = await bus.send(command, aggregate_id=row.recording_id, tenant=tenant, dedup_key=f"diarize:{run_id}")
    issue_token(request, token)
    return DiarizationAccepted(recording_id=row.recording_id, job_id=job.job_id, run_id=run_id, status="diarizing")


@patch(
    "/recordings/{recording_id:str}/speakers",
    status_code=202,
    summary="Rename or merge a job's speakers",
    opt={"scope": "member"},
)
async def name_speakers(
    request: Request,
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    recording_id: RecordingId,
    data: JSONBody[SpeakerNamesRequest],
    idempotency_key: IdempotencyKey = None,
) -> SpeakerNamesAccepted:
    row = await fresh.recording(tenant, recording_id)
    job = await transcript_job(fresh.readmodels, tenant, row, data.job_id)
    if job.speaker_turns is None:
        raise Conflict("speakers_not_diarized", "this job was not diarized: request it with `speakers`")
    labels = {str(t[2]) for t in job.speaker_turns}
    if not data.names and not data.merge:
        raise Unacceptable("invalid_speakers", "give `names` or `merge`", "names")
    check_names(data.names, data.merge, labels)
    command = NameSpeakers(recording_id=row.recording_id, job_id=job.job_id, names=data.names, merge=data.merge)
    # Each request is its own rename (renaming back and forth must not be deduplicated), unless retried by key.
    dedup = f"speakers:{job.job_id}:{idempotency_key or new_id()}"
    token = await bus.send(command, aggregate_id=row.recording_id, tenant=tenant, dedup_key=dedup)
    issue_token(request, token)
    names = {**(job.speaker_names or {}), **data.names, **data.merge}
    return SpeakerNamesAccepted(
        recording_id=row.recording_id,
        job_id=job.job_id,
        speakers={label: resolve(label, names) for label in sorted(labels, key=lambda s: (len(s), s))},
    )
