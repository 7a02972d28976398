"""Embedding a completed transcript's passages, once per job, as a pure Decider on the Recording aggregate.

The transcript is folded as the insight runs fold it; a job whose passages are all in the log (the part
marked `complete`) is never embedded again, so a redelivery or a second worker appends nothing.
"""

import msgspec
from msgspec.structs import replace

from voxledger.contracts import events as ev
from voxledger.contracts.decisions import Decider, Rejected
from voxledger.postproc.domain import runs

# Passages per event: ~2.7 KB each with its vector (sealed: ~3.6 KB), well inside NATS's 1 MB payload.
PART_SIZE = 48


class EmbeddingState(msgspec.Struct, frozen=True, kw_only=True):
    transcripts: runs.InsightState = msgspec.field(default_factory=runs.InsightState)
    embedded: frozenset[str] = frozenset()


class EmbedPassages(msgspec.Struct, kw_only=True):
    job_id: str
    model: str
    dimensions: int
    passages: list[ev.Passage]


# The events a transcript is folded from (as the insight runs fold it); insight runs themselves are not its business.
TRANSCRIPT_EVENTS = (
    ev.TranscriptionRequested,
    ev.TranscriptionStarted,
    ev.SegmentsTranscribed,
    ev.SpeakersDiarized,
    ev.SpeakersNamed,
    ev.TranscriptionCompleted,
    ev.RecordingDeleted,
)


def evolve(state: EmbeddingState, event: ev.Event) -> EmbeddingState:
    if isinstance(event, ev.PassagesEmbedded):
        return replace(state, embedded=state.embedded | {event.job_id}) if event.complete else state
    if not isinstance(event, TRANSCRIPT_EVENTS):
        return state
    transcripts = runs.evolve(state.transcripts, event)
    return state if transcripts is state.transcripts else replace(state, transcripts=transcripts)


def needs_embedding(state: EmbeddingState, job_id: str) -> bool:
    job = state.transcripts.jobs.get(job_id)
    return not state.transcripts.deleted and job is not None and job.completed and job_id not in state.embedded


def decide(command: EmbedPassages, state: EmbeddingState) -> list[ev.Event]:
    if state.transcripts.deleted:
        raise Rejected("recording_deleted", "the recording was deleted")
    if not needs_embedding(state, command.job_id):
        return []
    parts = [command.passages[i : i + PART_SIZE] for i in range(0, len(command.passages), PART_SIZE)] or [[]]
    return [
        ev.PassagesEmbedded(
            job_id=command.job_id,
            model=command.model,
            dimensions=command.dimensions,
            passages=part,
            complete=i == len(parts) - 1,
        )
        for i, part in enumerate(parts)
    ]


DECIDER: Decider[EmbedPassages, ev.Event, EmbeddingState] = Decider(
    initial=EmbeddingState(), decide=decide, evolve=evolve
)
