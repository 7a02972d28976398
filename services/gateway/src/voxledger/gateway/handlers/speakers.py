"""/v1/recordings/{id}/speakers: rename a job's speaker labels and merge them, as an event of the recording."""

import msgspec
from litestar import Request, patch
from litestar.di import NamedDependency

from voxledger.contracts.commands import NameSpeakers
from voxledger.contracts.ids import new_id
from voxledger.contracts.speakers import resolve
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.domain.errors import Conflict, Unacceptable
from voxledger.gateway.domain.speakers import check_names
from voxledger.gateway.handlers.common import FreshReads
from voxledger.gateway.handlers.recordings import transcript_job
from voxledger.gateway.http.consistency import issue_token
from voxledger.gateway.http.params import IdempotencyKey, RecordingId


class SpeakerNamesRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`names`: label -> display name (S1 -> "Maria"); `merge`: label -> the label it joins (S3 -> S1)."""

    job_id: str | None = None
    names: dict[str, str] = msgspec.field(default_factory=dict)
    merge: dict[str, str] = msgspec.field(default_factory=dict)


class SpeakerNamesAccepted(msgspec.Struct, kw_only=True):
    recording_id: str
    job_id: str
    speakers: dict[str, str]  # every label and the name it will show as


@patch("/recordings/{recording_id:str}/speakers", status_code=202, summary="Rename or merge a job's speakers")
async def name_speakers(
    request: Request,
    tenant: NamedDependency[str],
    fresh: NamedDependency[FreshReads],
    bus: NamedDependency[Bus],
    recording_id: RecordingId,
    data: SpeakerNamesRequest,
    idempotency_key: IdempotencyKey = None,
) -> SpeakerNamesAccepted:
    row = await fresh.recording(tenant, recording_id)
    job = await transcript_job(fresh.readmodels, tenant, row, data.job_id)
    if job["speaker_turns"] is None:
        raise Conflict("speakers_not_diarized", "this job was not diarized: request it with `speakers`")
    labels = {str(t[2]) for t in job["speaker_turns"]}
    if not data.names and not data.merge:
        raise Unacceptable("invalid_speakers", "give `names` or `merge`", "names")
    check_names(data.names, data.merge, labels)
    command = NameSpeakers(recording_id=row["recording_id"], job_id=job["job_id"], names=data.names, merge=data.merge)
    # Each request is its own rename (renaming back and forth must not be deduplicated), unless retried by key.
    dedup = f"speakers:{job['job_id']}:{idempotency_key or new_id()}"
    token = await bus.send(command, aggregate_id=row["recording_id"], tenant=tenant, dedup_key=dedup)
    issue_token(request, token)
    names = {**(job["speaker_names"] or {}), **data.names, **data.merge}
    return SpeakerNamesAccepted(
        recording_id=row["recording_id"],
        job_id=job["job_id"],
        speakers={label: resolve(label, names) for label in sorted(labels, key=lambda s: (len(s), s))},
    )
