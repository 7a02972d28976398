"""The Recording aggregate as a Decider: pure `decide(command, state)` and `evolve(state, event)`.

Job status is derived from these events only. Every decision is idempotent by
id, so a redelivered command or a retried attempt never duplicates an effect.
"""

from datetime import datetime

import msgspec
from msgspec.structs import replace

from voxledger.contracts import events as ev
from voxledger.contracts.commands import (
    CancelTranscription,
    DeleteRecording,
    DescribeRecording,
    NameSpeakers,
    RequestDiarization,
    RequestInsights,
    RequestTranscription,
    UploadRecording,
)
from voxledger.contracts.decisions import Decider, Rejected
from voxledger.contracts.failures import public_message
from voxledger.contracts.statuses import JobStatus
from voxledger.transcriber.domain import stitching

TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


class Chunking(msgspec.Struct, frozen=True, kw_only=True):
    """A chunked job's plan and what its chunks have recorded; segments wait here until they are stitched."""

    duration_s: float
    spans: list[ev.ChunkSpan]
    planned_at: datetime | None = None
    recorded: frozenset[int] = frozenset()
    pending: dict[int, list[ev.Segment]] = msgspec.field(default_factory=dict)  # recorded, not yet stitched
    stitched: int = 0  # chunks 0..stitched-1 are in the job's segments
    audio_s: float = 0.0  # of the recorded chunks
    compute_s: float = 0.0
    language: str | None = None
    language_probability: float | None = None


class Job(msgspec.Struct, frozen=True, kw_only=True):
    job_id: str
    options: ev.TranscriptionOptions
    status: JobStatus = "queued"
    attempt: int = 0
    next_segment_index: int = 0
    transcribed_until_s: float = 0.0
    cancel_requested: bool = False
    diarized: bool = False  # its SpeakersDiarized is in the log: a retry does not diarize again
    speaker_labels: frozenset[str] = frozenset()
    speaker_names: dict[str, str] = msgspec.field(default_factory=dict)
    diarization_runs: dict[str, bool] = msgspec.field(default_factory=dict)  # run id -> done
    chunking: Chunking | None = None  # set once the job is split into chunks


class Recording(msgspec.Struct, frozen=True, kw_only=True):
    exists: bool = False
    deleted: bool = False
    blob_key: str = ""
    jobs: dict[str, Job] = msgspec.field(default_factory=dict)
    insight_runs: frozenset[str] = frozenset()
    name: str = ""  # as a person named, tagged and filed it (RecordingDescribed)
    tags: tuple[str, ...] = ()
    folder: str = ""


# --- Worker intents: decisions a running worker asks the aggregate to make ---
# Each names the attempt it works for. That is the fencing token: once another
# worker has started a later attempt, a paused or partitioned one is refused.


class StartAttempt(msgspec.Struct, kw_only=True):
    job_id: str
    worker: str
    model: str


class ReportProgress(msgspec.Struct, kw_only=True):
    job_id: str
    attempt: int
    stage: ev.Stage
    progress: float
    processed_s: float
    eta_s: float | None = None


class RecordSegments(msgspec.Struct, kw_only=True):
    job_id: str
    attempt: int
    segments: list[ev.Segment]


class RecordSpeakers(msgspec.Struct, kw_only=True):
    job_id: str
    attempt: int
    turns: list[ev.SpeakerTurn]
    processing_s: float


class RecordRediarization(msgspec.Struct, kw_only=True):
    """A diarization re-run's turns, for a completed job."""

    job_id: str
    run_id: str
    turns: list[ev.SpeakerTurn]
    processing_s: float


class ReportRediarizationProgress(msgspec.Struct, kw_only=True):
    job_id: str
    run_id: str
    progress: float


class Complete(msgspec.Struct, kw_only=True):
    job_id: str
    attempt: int
    language: str
    duration_s: float
    processing_s: float
    language_probability: float | None = None


class PlanChunks(msgspec.Struct, kw_only=True):
    """Split the job: its chunks are queued as units of work, and this attempt's part is done."""

    job_id: str
    attempt: int
    duration_s: float
    spans: list[ev.ChunkSpan]
    priority: ev.Priority = "normal"
    planned_at: datetime | None = None


class RecordChunk(msgspec.Struct, kw_only=True):
    """A chunk's segments over its window; every chunk now contiguous with the stitched ones is stitched."""

    job_id: str
    index: int
    segments: list[ev.Segment]
    processing_s: float
    language: str
    language_probability: float | None = None
    recorded_at: datetime | None = None


class Cancel(msgspec.Struct, kw_only=True):
    """The worker has stopped a job whose cancellation was requested."""

    job_id: str
    attempt: int


class Fail(msgspec.Struct, kw_only=True):
    job_id: str
    error_code: str
    message: str
    retry_at: str | None = None  # set: this attempt failed and the job will be retried
    attempt: int | None = None  # None: the broker gave up on the job, whoever held it


Command = (  # what the decider decides on: the bus's recording commands and the workers' own
    UploadRecording
    | RequestTranscription
    | CancelTranscription
    | RequestInsights
    | DeleteRecording
    | NameSpeakers
    | DescribeRecording
    | StartAttempt
    | ReportProgress
    | RecordSegments
    | RecordSpeakers
    | RequestDiarization
    | RecordRediarization
    | ReportRediarizationProgress
    | Complete
    | Cancel
    | Fail
    | PlanChunks
    | RecordChunk
)


def evolve(state: Recording, event: ev.Event) -> Recording:
    match event:
        case ev.RecordingUploaded(blob_key=blob_key) | ev.LiveSessionEnded(blob_key=blob_key):
            # An ended live session's audio is saved: from then on it is a recording like an upload.
            return replace(state, exists=True, blob_key=blob_key)
        case ev.TranscriptionRequested(job_id=job_id, options=options):
            return _with_job(state, Job(job_id=job_id, options=options))
        case ev.LiveSessionStarted(job_id=job_id, options=options):
            return _with_job(state, Job(job_id=job_id, options=options, status="running", attempt=1))
        case ev.RecordingDeleted():
            return replace(state, deleted=True)
        case ev.RecordingDescribed(name=name, tags=tags, folder=folder):
            return replace(state, name=name, tags=tuple(tags), folder=folder)
        case ev.InsightsRequested(run_id=run_id):
            return replace(state, insight_runs=state.insight_runs | {run_id})
        case _ if (job := state.jobs.get(getattr(event, "job_id", ""))) is not None:
            evolved = _evolve_job(job, event)
            return state if evolved is job else _with_job(state, evolved)
    return state


def _with_job(state: Recording, job: Job) -> Recording:
    return replace(state, jobs={**state.jobs, job.job_id: job})


def _evolve_job(job: Job, event: ev.Event) -> Job:
    match event:
        case ev.TranscriptionStarted(attempt=attempt):
            return replace(job, status="running", attempt=attempt)
        case ev.SegmentsTranscribed(segments=segments) if segments:
            return replace(job, next_segment_index=segments[-1].index + 1, transcribed_until_s=segments[-1].end)
        case ev.SpeakersDiarized(turns=turns, run_id=run_id):
            diarized = replace(job, diarized=True, speaker_labels=frozenset(t.speaker for t in turns))
            if run_id is None:
                return diarized
            return replace(diarized, diarization_runs={**job.diarization_runs, run_id: True}, speaker_names={})
        case ev.DiarizationRequested(run_id=run_id):
            return replace(job, diarization_runs={**job.diarization_runs, run_id: False})
        case ev.SpeakersNamed(names=names):
            return replace(job, speaker_names=dict(names))
        case ev.TranscriptionCompleted() | ev.TranscriptionAttemptFailed() | ev.TranscriptionFailed():
            return replace(job, status=ENDED_AS[type(event)])
        case ev.TranscriptionCancelled():
            return replace(job, status="cancelled")
        case ev.TranscriptionCancelRequested():
            return replace(job, cancel_requested=True)
        case ev.TranscriptionChunked(duration_s=duration_s, chunks=chunks, planned_at=planned_at):
            return replace(job, chunking=Chunking(duration_s=duration_s, spans=chunks, planned_at=planned_at))
        case ev.ChunkTranscribed():
            assert job.chunking is not None, "a chunk of an unchunked job"
            return replace(job, chunking=_chunk_recorded(job.chunking, event))
    return job


ENDED_AS: dict[type, JobStatus] = {
    ev.TranscriptionCompleted: "completed",
    ev.TranscriptionAttemptFailed: "queued",
    ev.TranscriptionFailed: "failed",
}


def _chunk_recorded(chunking: Chunking, event: ev.ChunkTranscribed) -> Chunking:
    span = chunking.spans[event.index]
    pending, stitched = {**chunking.pending, event.index: event.segments}, chunking.stitched
    while stitched in pending:  # its segments are in the SegmentsTranscribed decided with it
        del pending[stitched]
        stitched += 1
    first = chunking.language is None
    return replace(
        chunking,
        recorded=chunking.recorded | {event.index},
        pending=pending,
        stitched=stitched,
        audio_s=chunking.audio_s + span.end_s - span.start_s,
        compute_s=chunking.compute_s + event.processing_s,
        language=event.language if first else chunking.language,
        language_probability=event.language_probability if first else chunking.language_probability,
    )


def fold(history: list[ev.Event]) -> Recording:
    return DECIDER.fold(history)


def decide(command: Command, state: Recording) -> list[ev.Event]:
    match command:
        case UploadRecording():
            return _upload(command, state)
        case RequestTranscription():
            return _request_transcription(command, state)
        case CancelTranscription():
            return _cancel_transcription(command, state)
        case Cancel():
            return _cancelled(command, state)
        case DeleteRecording():
            return _delete(state)
        case RequestInsights():
            return _request_insights(command, state)
        case NameSpeakers():
            return _name_speakers(command, state)
        case DescribeRecording():
            return _describe(command, state)
        case RequestDiarization():
            return _request_diarization(command, state)
        case RecordRediarization():
            return _record_rediarization(command, state)
        case ReportRediarizationProgress():
            return _report_rediarization_progress(command, state)
        case StartAttempt():
            return _start_attempt(command, state)
        case ReportProgress():
            return _report_progress(command, state)
        case RecordSegments():
            return _record_segments(command, state)
        case RecordSpeakers():
            return _record_speakers(command, state)
        case Complete():
            return _complete(command, state)
        case Fail():
            return _fail(command, state)
        case PlanChunks():
            return _plan_chunks(command, state)
        case RecordChunk():
            return _record_chunk(command, state)
    raise TypeError(f"unknown command {type(command).__name__}")


# --- Client commands ---


def _request_transcription(command: RequestTranscription, state: Recording) -> list[ev.Event]:
    if not state.exists:
        raise Rejected("recording_not_found", "no such recording")
    requested = _request(command.job_id, command.options, state)
    if requested and state.deleted:
        # The client already holds a 202 for this job: it must end visibly, not vanish.
        requested.append(
            ev.TranscriptionFailed(
                job_id=command.job_id, error_code="recording_deleted", message=public_message("recording_deleted")
            )
        )
    return requested


def _cancel_transcription(command: CancelTranscription, state: Recording) -> list[ev.Event]:
    _require_live(state)
    job = state.jobs.get(command.job_id)
    if job is None:
        raise Rejected("job_not_found", f"no job {command.job_id}")
    if job.status in TERMINAL or job.cancel_requested:
        return []  # repeating a cancel is harmless
    requested: list[ev.Event] = [ev.TranscriptionCancelRequested(job_id=job.job_id)]
    if job.status == "queued":
        requested.append(ev.TranscriptionCancelled(job_id=job.job_id))  # never started: nothing to stop
    return requested


def _request_insights(command: RequestInsights, state: Recording) -> list[ev.Event]:
    _require_live(state)
    job = state.jobs.get(command.job_id)
    if job is None or job.status != "completed":
        raise Rejected("job_not_completed", "insights need a completed transcription")
    if command.run_id in state.insight_runs:
        return []  # a redelivered command
    return [ev.InsightsRequested(job_id=command.job_id, run_id=command.run_id, kinds=command.kinds)]


def _name_speakers(command: NameSpeakers, state: Recording) -> list[ev.Event]:
    _require_live(state)
    job = state.jobs.get(command.job_id)
    if job is None:
        raise Rejected("job_not_found", f"no job {command.job_id}")
    if not job.diarized:
        raise Rejected("speakers_not_diarized", "the job has no speaker turns to name")
    for label in [*command.names, *command.merge]:
        if label not in job.speaker_labels:
            raise Rejected("unknown_speaker", f"the job has no speaker {label!r}")
    for label, target in command.merge.items():
        if target not in job.speaker_labels or target == label:
            raise Rejected("unknown_speaker", f"cannot merge {label!r} into {target!r}")
    names = {**job.speaker_names, **command.names, **command.merge}
    if names == job.speaker_names:
        return []  # a repeated rename
    return [ev.SpeakersNamed(job_id=job.job_id, names=names)]


def _describe(command: DescribeRecording, state: Recording) -> list[ev.Event]:
    _require_live(state)
    name = state.name if command.name is None else command.name
    tags = state.tags if command.tags is None else tuple(dict.fromkeys(command.tags))  # once each, in order
    folder = state.folder if command.folder is None else command.folder
    if (name, tags, folder) == (state.name, state.tags, state.folder):
        return []  # nothing changes (a repeated request)
    return [ev.RecordingDescribed(name=name, tags=list(tags), folder=folder)]


def _request_diarization(command: RequestDiarization, state: Recording) -> list[ev.Event]:
    _require_live(state)
    job = state.jobs.get(command.job_id)
    if job is None or job.status != "completed":
        raise Rejected("job_not_completed", "diarization runs again on a completed transcription")
    if command.run_id in job.diarization_runs:
        return []  # a redelivered command
    return [ev.DiarizationRequested(job_id=job.job_id, run_id=command.run_id, options=command.options)]


def _running_rediarization(state: Recording, job_id: str, run_id: str) -> Job | None:
    """The job whose re-run this is; None once the run's turns are in (a retried append)."""
    _require_live(state)
    job = state.jobs.get(job_id)
    if job is None or run_id not in job.diarization_runs:
        raise Rejected("run_not_found", f"no diarization run {run_id}")
    return None if job.diarization_runs[run_id] else job


def _report_rediarization_progress(command: ReportRediarizationProgress, state: Recording) -> list[ev.Event]:
    if _running_rediarization(state, command.job_id, command.run_id) is None:
        return []
    return [ev.DiarizationProgressed(job_id=command.job_id, run_id=command.run_id, progress=command.progress)]


def _record_rediarization(command: RecordRediarization, state: Recording) -> list[ev.Event]:
    if (job := _running_rediarization(state, command.job_id, command.run_id)) is None:
        return []
    turns, spent = command.turns, command.processing_s
    return [ev.SpeakersDiarized(job_id=job.job_id, turns=turns, processing_s=spent, run_id=command.run_id)]


# --- Worker intents ---


def _start_attempt(command: StartAttempt, state: Recording) -> list[ev.Event]:
    job = _open_job(state, command.job_id)
    if job.cancel_requested:
        return [ev.TranscriptionCancelled(job_id=job.job_id)]
    if job.chunking is not None:
        return []  # split into chunks already: they are the work now, not a new attempt
    return [
        ev.TranscriptionStarted(job_id=job.job_id, attempt=job.attempt + 1, worker=command.worker, model=command.model)
    ]


def _report_progress(command: ReportProgress, state: Recording) -> list[ev.Event]:
    _running_job(state, command.job_id, command.attempt)
    return [
        ev.TranscriptionProgressed(
            job_id=command.job_id,
            stage=command.stage,
            progress=command.progress,
            processed_s=command.processed_s,
            eta_s=command.eta_s,
        )
    ]


def _record_segments(command: RecordSegments, state: Recording) -> list[ev.Event]:
    job = _running_job(state, command.job_id, command.attempt)
    if not command.segments:
        return []
    indexes = [s.index for s in command.segments]
    expected = list(range(job.next_segment_index, job.next_segment_index + len(indexes)))
    if indexes != expected:
        raise Rejected("segment_gap", f"expected segments {expected[0]}..{expected[-1]}, got {indexes}")
    return [ev.SegmentsTranscribed(job_id=job.job_id, segments=command.segments)]


def _record_speakers(command: RecordSpeakers, state: Recording) -> list[ev.Event]:
    job = _running_job(state, command.job_id, command.attempt)
    if job.diarized:
        return []  # a retried append
    return [ev.SpeakersDiarized(job_id=job.job_id, turns=command.turns, processing_s=command.processing_s)]


def _complete(command: Complete, state: Recording) -> list[ev.Event]:
    job = _running_job(state, command.job_id, command.attempt)
    return [
        ev.TranscriptionCompleted(
            job_id=job.job_id,
            language=command.language,
            duration_s=command.duration_s,
            segment_count=job.next_segment_index,
            processing_s=command.processing_s,
            language_probability=command.language_probability,
        )
    ]


def _plan_chunks(command: PlanChunks, state: Recording) -> list[ev.Event]:
    job = _running_job(state, command.job_id, command.attempt)
    if job.chunking is not None:
        return []  # a retried append
    chunked = ev.TranscriptionChunked(
        job_id=job.job_id,
        attempt=command.attempt,
        duration_s=command.duration_s,
        chunks=command.spans,
        planned_at=command.planned_at,
    )
    queued = [
        ev.TranscriptionChunkQueued(
            job_id=job.job_id, index=s.index, start_s=s.start_s, end_s=s.end_s, priority=command.priority
        )
        for s in command.spans
    ]
    return [chunked, *queued]


def _record_chunk(command: RecordChunk, state: Recording) -> list[ev.Event]:
    job = _open_job(state, command.job_id)
    _running_job(state, job.job_id, job.attempt)  # a chunk writes for the job, whichever worker runs it
    chunking = job.chunking
    if chunking is None or not 0 <= command.index < len(chunking.spans):
        raise Rejected("chunk_not_found", f"job {job.job_id} has no chunk {command.index}")
    if command.index in chunking.recorded:
        raise Rejected("chunk_recorded", f"chunk {command.index} of job {job.job_id} is already recorded")
    recorded = ev.ChunkTranscribed(
        job_id=job.job_id,
        index=command.index,
        segments=command.segments,
        processing_s=command.processing_s,
        language=command.language,
        language_probability=command.language_probability,
    )
    return [recorded, *_stitch(job, chunking, command)]


def _stitch(job: Job, chunking: Chunking, command: RecordChunk) -> list[ev.Event]:
    """The segments of every chunk now contiguous with the stitched ones, then progress, then completion."""
    pending = {**chunking.pending, command.index: command.segments}
    last, index, produced = len(chunking.spans) - 1, job.next_segment_index, list[ev.Event]()
    n = chunking.stitched
    while n in pending:
        kept = stitching.trim(pending[n], chunking.spans[n], n == last, job.options.word_timestamps)
        if kept:
            produced.append(ev.SegmentsTranscribed(job_id=job.job_id, segments=stitching.numbered(kept, index)))
            index += len(kept)
        n += 1
    span = chunking.spans[command.index]
    audio_s = chunking.audio_s + span.end_s - span.start_s
    compute_s = chunking.compute_s + command.processing_s
    if n <= last:
        eta = stitching.eta_s(chunking.duration_s, audio_s, _chunks_spent_s(chunking, command, compute_s))
        progress = round(min(audio_s / chunking.duration_s, 1.0), 4) if chunking.duration_s else 0.0
        at = round(audio_s, 3)
        produced.append(
            ev.TranscriptionProgressed(
                job_id=job.job_id, stage="transcribing", progress=progress, processed_s=at, eta_s=eta
            )
        )
        return produced
    language = chunking.language or command.language
    probability = chunking.language_probability if chunking.language else command.language_probability
    completed = ev.TranscriptionCompleted(
        job_id=job.job_id,
        language=language,
        duration_s=chunking.duration_s,
        segment_count=index,
        processing_s=round(compute_s, 3),
        language_probability=probability,
    )
    return [*produced, completed]


def _chunks_spent_s(chunking: Chunking, command: RecordChunk, compute_s: float) -> float:
    """What the audio done so far took: the wall time since the plan, so that chunks running side by side
    count once; a plan without its time (or clocks apart) falls back to the chunks' own time summed."""
    if chunking.planned_at is None or command.recorded_at is None:
        return compute_s
    elapsed_s = (command.recorded_at - chunking.planned_at).total_seconds()
    return elapsed_s if elapsed_s > 0 else compute_s


def _cancelled(command: Cancel, state: Recording) -> list[ev.Event]:
    job = _attempt_job(state, command.job_id, command.attempt)
    if not job.cancel_requested:
        raise Rejected("cancel_not_requested", f"job {job.job_id} was not asked to stop")
    return [ev.TranscriptionCancelled(job_id=job.job_id)]


def _fail(command: Fail, state: Recording) -> list[ev.Event]:
    """With `retry_at` this attempt failed and the job is retried; without it the job has failed."""
    if command.attempt is None:
        job = _open_job(state, command.job_id)
    else:
        job = _attempt_job(state, command.job_id, command.attempt)
    if command.retry_at is not None:
        return [
            ev.TranscriptionAttemptFailed(
                job_id=job.job_id,
                attempt=job.attempt,
                error_code=command.error_code,
                message=command.message,
                retry_at=command.retry_at,
            )
        ]
    return [ev.TranscriptionFailed(job_id=job.job_id, error_code=command.error_code, message=command.message)]


def _upload(command: UploadRecording, state: Recording) -> list[ev.Event]:
    produced: list[ev.Event] = []
    if not state.exists:
        produced.append(
            ev.RecordingUploaded(
                filename=command.filename,
                content_type=command.content_type,
                size_bytes=command.size_bytes,
                blob_key=command.blob_key,
                blob_digest=command.blob_digest,
            )
        )
    elif state.blob_key != command.blob_key:
        raise Rejected("recording_exists", "a different recording already has this id")
    if command.job_id is not None:
        produced += _request(command.job_id, command.options, state)
    return produced


def _request(job_id: str, options: ev.TranscriptionOptions, state: Recording) -> list[ev.Event]:
    if job_id in state.jobs:
        return []  # already requested: a redelivered command
    return [ev.TranscriptionRequested(job_id=job_id, options=options)]


def _delete(state: Recording) -> list[ev.Event]:
    """Open jobs end cancelled first: a running worker sees the cancel request and stops."""
    if not state.exists:
        raise Rejected("recording_not_found", "no such recording")
    if state.deleted:
        return []  # a redelivered command
    produced: list[ev.Event] = []
    for job in state.jobs.values():
        if job.status in TERMINAL:
            continue
        if not job.cancel_requested:
            produced.append(ev.TranscriptionCancelRequested(job_id=job.job_id))
        produced.append(ev.TranscriptionCancelled(job_id=job.job_id))
    return [*produced, ev.RecordingDeleted()]


def chunk_todo(state: Recording, job_id: str, index: int) -> str:
    """ "run" if the chunk is still to be transcribed, else the code of why its message needs nothing more."""
    try:
        job = _open_job(state, job_id)
    except Rejected as err:
        return err.code
    if job.cancel_requested:
        return "cancel_requested"
    if job.chunking is None or not 0 <= index < len(job.chunking.spans):
        return "chunk_not_found"
    return "chunk_recorded" if index in job.chunking.recorded else "run"


def _require_live(state: Recording) -> None:
    if not state.exists:
        raise Rejected("recording_not_found", "no such recording")
    if state.deleted:
        raise Rejected("recording_deleted", "the recording was deleted")


def _open_job(state: Recording, job_id: str) -> Job:
    _require_live(state)
    job = state.jobs.get(job_id)
    if job is None:
        raise Rejected("job_not_found", f"no job {job_id}")
    if job.status in TERMINAL:
        raise Rejected("job_finished", f"job {job_id} is already {job.status}")
    return job


def _attempt_job(state: Recording, job_id: str, attempt: int) -> Job:
    """The job, if `attempt` is still its current one: a superseded worker may no longer write."""
    job = _open_job(state, job_id)
    if job.attempt != attempt:
        raise Rejected("attempt_superseded", f"job {job_id} is on attempt {job.attempt}, not {attempt}")
    return job


def _running_job(state: Recording, job_id: str, attempt: int) -> Job:
    job = _open_job(state, job_id)
    if job.status != "running":
        raise Rejected("job_not_running", f"job {job_id} is {job.status}")
    _attempt_job(state, job_id, attempt)
    if job.cancel_requested:
        raise Rejected("cancel_requested", f"job {job_id} is being cancelled")
    return job


DECIDER: Decider[Command, ev.Event, Recording] = Decider(initial=Recording(), decide=decide, evolve=evolve)
