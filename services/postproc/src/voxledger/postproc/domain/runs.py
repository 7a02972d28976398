"""Insight runs on the Recording aggregate, as a pure Decider over the events post-processing cares about.

A run covers some kinds for one completed job. Each kind is started once and
settles once (ready or failed); the run completes once, when all have settled.
Redelivery or replay therefore never duplicates anything.
"""

from functools import cached_property

import msgspec
from msgspec.structs import replace

from voxledger.contracts import events as ev
from voxledger.contracts.decisions import Decider, Rejected
from voxledger.contracts.insights import INSIGHT_KINDS, InsightKind, InsightPayload, TranscriptLine
from voxledger.contracts.speakers import Turn, resolve, speaker_at
from voxledger.contracts.statuses import InsightStatus

# The segments in log order, as a persistent chain of batches: appending a batch is O(1) and shares the rest.
SegmentChain = tuple["SegmentChain | None", list[ev.Segment]]


class JobTranscript(msgspec.Struct, frozen=True, kw_only=True, dict=True):
    segments: SegmentChain | None = None
    duration_s: float = 0.0
    completed: bool = False
    turns: tuple[Turn, ...] = ()  # a diarized job's speaker turns
    names: dict[str, str] = msgspec.field(default_factory=dict)

    @cached_property
    def lines(self) -> list[TranscriptLine]:
        """The transcript's lines, each with its speaker from the turns and names; computed once per value."""
        batches, chain = [], self.segments
        while chain is not None:
            chain, batch = chain
            batches.append(batch)
        lines = [_line(s) for batch in reversed(batches) for s in batch]
        if self.turns:
            for line in lines:
                who = speaker_at(line.start, line.end, self.turns)
                line.speaker = resolve(who, self.names) if who else None
        return lines

    def named_turns(self) -> list[Turn]:
        """The speaker turns with each label's display name (after renames and merges)."""
        return [(start, end, resolve(label, self.names)) for start, end, label in self.turns]


class Run(msgspec.Struct, frozen=True, kw_only=True):
    job_id: str
    kinds: dict[InsightKind, InsightStatus]
    completed: bool = False

    @property
    def open_kinds(self) -> list[InsightKind]:
        return [k for k, status in self.kinds.items() if status in ("pending", "running")]


class InsightState(msgspec.Struct, frozen=True, kw_only=True):
    jobs: dict[str, JobTranscript] = msgspec.field(default_factory=dict)
    runs: dict[str, Run] = msgspec.field(default_factory=dict)
    deleted: bool = False


# --- Intents the runner asks the aggregate to decide ---


class OpenRun(msgspec.Struct, kw_only=True):
    """The automatic run after a transcription completes; its run id is the job id."""

    job_id: str


class StartInsight(msgspec.Struct, kw_only=True):
    run_id: str
    kind: InsightKind


class FinishInsight(msgspec.Struct, kw_only=True):
    run_id: str
    kind: InsightKind
    engine: str
    payload: InsightPayload
    processing_s: float


class FailInsight(msgspec.Struct, kw_only=True):
    run_id: str
    kind: InsightKind
    error_code: str
    message: str


class CompleteRun(msgspec.Struct, kw_only=True):
    run_id: str


RunCommand = OpenRun | StartInsight | FinishInsight | FailInsight | CompleteRun


def evolve(state: InsightState, event: ev.Event) -> InsightState:
    match event:
        case ev.TranscriptionRequested(job_id=job_id) | ev.TranscriptionStarted(job_id=job_id):
            return state if job_id in state.jobs else _with_job(state, job_id, JobTranscript())
        case ev.SegmentsTranscribed(job_id=job_id, segments=segments):
            job = state.jobs.get(job_id, JobTranscript())
            return _with_job(state, job_id, replace(job, segments=(job.segments, segments)))
        case ev.SpeakersDiarized(job_id=job_id, turns=turns, run_id=run_id):
            job = state.jobs.get(job_id, JobTranscript())
            diarized = replace(job, turns=tuple((t.start, t.end, t.speaker) for t in turns))
            return _with_job(state, job_id, diarized if run_id is None else replace(diarized, names={}))
        case ev.SpeakersNamed(job_id=job_id, names=names):
            return _with_job(state, job_id, replace(state.jobs.get(job_id, JobTranscript()), names=dict(names)))
        case ev.TranscriptionCompleted(job_id=job_id, duration_s=duration_s):
            job = state.jobs.get(job_id, JobTranscript())
            return _with_job(state, job_id, replace(job, duration_s=duration_s, completed=True))
        case ev.InsightsRequested(job_id=job_id, run_id=run_id, kinds=kinds):
            return _with_run(state, run_id, Run(job_id=job_id, kinds=dict.fromkeys(kinds, "pending")))
        case ev.InsightStarted(run_id=run_id, kind=kind):
            return _with_kind(state, run_id, kind, "running")
        case ev.InsightReady(run_id=run_id, kind=kind):
            return _with_kind(state, run_id, kind, "ready")
        case ev.InsightFailed(run_id=run_id, kind=kind):
            return _with_kind(state, run_id, kind, "failed")
        case ev.InsightsCompleted(run_id=run_id):
            return _with_run(state, run_id, replace(state.runs[run_id], completed=True))
        case ev.RecordingDeleted():
            return replace(state, deleted=True)
    return state


def _with_job(state: InsightState, job_id: str, job: JobTranscript) -> InsightState:
    return replace(state, jobs={**state.jobs, job_id: job})


def _with_run(state: InsightState, run_id: str, run: Run) -> InsightState:
    return replace(state, runs={**state.runs, run_id: run})


def _with_kind(state: InsightState, run_id: str, kind: InsightKind, status: InsightStatus) -> InsightState:
    run = state.runs[run_id]
    return _with_run(state, run_id, replace(run, kinds={**run.kinds, kind: status}))


def _line(segment: ev.Segment) -> TranscriptLine:
    """With word timestamps, the line spans its words: Whisper's segment times also cover pauses."""
    start, end = (segment.words[0].start, segment.words[-1].end) if segment.words else (segment.start, segment.end)
    return TranscriptLine(index=segment.index, start=start, end=end, text=segment.text)


def fold(history: list[ev.Event]) -> InsightState:
    return DECIDER.fold(history)


def decide(command: RunCommand, state: InsightState) -> list[ev.Event]:
    match command:
        case OpenRun(job_id=job_id):
            job = state.jobs.get(job_id)
            if job is None or not job.completed:
                raise Rejected("job_not_completed", f"job {job_id} has no completed transcript")
            if job_id in state.runs:
                return []
            return [ev.InsightsRequested(job_id=job_id, run_id=job_id, kinds=list(INSIGHT_KINDS))]
        case StartInsight(run_id=run_id, kind=kind):
            run = _open_run(state, run_id)
            return (
                [ev.InsightStarted(job_id=run.job_id, run_id=run_id, kind=kind)] if run.kinds[kind] == "pending" else []
            )
        case FinishInsight(run_id=run_id, kind=kind):
            run = _open_run(state, run_id)
            if run.kinds[kind] in ("ready", "failed"):
                return []
            return [
                ev.InsightReady(
                    job_id=run.job_id,
                    run_id=run_id,
                    kind=kind,
                    engine=command.engine,
                    payload=command.payload,
                    processing_s=command.processing_s,
                )
            ]
        case FailInsight(run_id=run_id, kind=kind):
            run = _open_run(state, run_id)
            if run.kinds[kind] in ("ready", "failed"):
                return []
            return [
                ev.InsightFailed(
                    job_id=run.job_id, run_id=run_id, kind=kind, error_code=command.error_code, message=command.message
                )
            ]
        case CompleteRun(run_id=run_id):
            run = _open_run(state, run_id)
            if run.open_kinds:
                raise Rejected("run_unsettled", f"kinds still open: {run.open_kinds}")
            ready: list[InsightKind] = [k for k, s in run.kinds.items() if s == "ready"]
            failed: list[InsightKind] = [k for k, s in run.kinds.items() if s == "failed"]
            return [ev.InsightsCompleted(job_id=run.job_id, run_id=run_id, ready=ready, failed=failed)]
    raise TypeError(f"unknown command {type(command).__name__}")


def _open_run(state: InsightState, run_id: str) -> Run:
    run = state.runs.get(run_id)
    if run is None:
        raise Rejected("run_not_found", f"no insight run {run_id}")
    if run.completed:
        raise Rejected("run_completed", f"insight run {run_id} already completed")
    return run


DECIDER: Decider[RunCommand, ev.Event, InsightState] = Decider(initial=InsightState(), decide=decide, evolve=evolve)
