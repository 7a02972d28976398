"""A live session as a Decider over the Recording aggregate's events.

The session id is the recording id. Finals are SegmentsTranscribed of the session's job, accepted only
in index order, so a worker that took over can never duplicate or skip one. Ending appends the
statistics and completes the job, which makes the session a recording with a transcript.
"""

import msgspec
from msgspec.structs import replace

from voxledger.contracts import events as ev
from voxledger.contracts.decisions import Decider, Rejected
from voxledger.contracts.live import LiveSessionSpec, segment_confidence


class FinalsTally(msgspec.Struct, frozen=True, kw_only=True):
    """What the session's finals add up to: all that deciding needs of them, kept in O(1) per final."""

    count: int = 0
    next_index: int = 0
    until_s: float = 0.0
    speech_s: float = 0.0
    words: int = 0
    confidence: float = 0.0  # summed over the finals

    def add(self, segments: list[ev.Segment]) -> "FinalsTally":
        if not segments:
            return self
        speech_s, words, confidence = self.speech_s, self.words, self.confidence
        for s in segments:  # summed in order, so the statistics are the same floats as summing the list
            speech_s += max(0.0, s.end - s.start)
            words += len(s.text.split())
            confidence += segment_confidence(s)
        last = segments[-1]
        count = self.count + len(segments)
        return FinalsTally(
            count=count,
            next_index=last.index + 1,
            until_s=last.end,
            speech_s=speech_s,
            words=words,
            confidence=confidence,
        )

    def statistics(self) -> ev.LiveSessionStats:
        """Final segment count, mean confidence, speech duration and words per minute of speech."""
        return ev.LiveSessionStats(
            final_count=self.count,
            mean_confidence=round(self.confidence / self.count, 4) if self.count else 0.0,
            speech_s=round(self.speech_s, 3),
            words_per_minute=round(self.words * 60 / self.speech_s, 1) if self.speech_s > 0 else 0.0,
        )


class LiveSession(msgspec.Struct, frozen=True, kw_only=True):
    started: bool = False
    ended: bool = False
    job_id: str = ""
    worker: str = ""
    claims: int = 0  # how many times a worker took the session: bounded, so a poison session cannot loop
    finals: FinalsTally = FinalsTally()

    @property
    def next_index(self) -> int:
        return self.finals.next_index

    @property
    def finalized_until_s(self) -> float:
        return self.finals.until_s


class Claim(msgspec.Struct, kw_only=True):
    """A worker holds the session's lease: it starts the session, or takes it over from another worker."""

    spec: LiveSessionSpec
    worker: str
    model: str


class RecordFinals(msgspec.Struct, kw_only=True):
    segments: list[ev.Segment]
    speech_final: bool = False  # the last segment ends the speaker's turn


class SavedAudio(msgspec.Struct, kw_only=True):
    """The session's audio as saved in the audio bucket (all empty if it could not be saved)."""

    duration_s: float = 0.0
    blob_key: str = ""
    blob_digest: str = ""
    size_bytes: int = 0


class Fail(msgspec.Struct, kw_only=True):
    """The session cannot go on (its model cannot load, or it failed on every try): it ends as failed."""

    error_code: str
    message: str
    audio: SavedAudio


class End(msgspec.Struct, kw_only=True):
    reason: ev.LiveEndReason
    duration_s: float
    blob_key: str
    blob_digest: str
    size_bytes: int
    language: str
    processing_s: float


def evolve(state: LiveSession, event: ev.Event) -> LiveSession:
    match event:
        case ev.LiveSessionStarted(job_id=job_id, worker=worker):
            return replace(state, started=True, job_id=job_id, worker=worker, claims=state.claims + 1)
        case ev.LiveSessionTakenOver(worker=worker):
            return replace(state, worker=worker, claims=state.claims + 1)
        case ev.SegmentsTranscribed(job_id=job_id, segments=segments) if job_id == state.job_id:
            return replace(state, finals=state.finals.add(segments))
        case ev.LiveSessionEnded():
            return replace(state, ended=True)
    return state


def fold(history: list[ev.Event]) -> LiveSession:
    return DECIDER.fold(history)


CLIENT_END_REASONS: tuple[ev.LiveEndReason, ...] = ("stopped", "inactivity", "max_duration")


def end_reason(marker: str | None) -> ev.LiveEndReason:
    """The reason an end marker carries. Anything else reads as `stopped`: an unknown value appended to
    the log would be an event no consumer can decode."""
    for reason in CLIENT_END_REASONS:
        if marker == reason:
            return reason
    return "stopped"


def claims_exhausted(state: LiveSession, max_claims: int) -> bool:
    """True once workers took the session `max_claims` times without ending it: the next holder ends it failed."""
    return state.started and not state.ended and state.claims >= max_claims


def decide(command: Claim | RecordFinals | End | Fail, state: LiveSession) -> list[ev.Event]:
    match command:
        case Claim():
            return _claim(command, state)
        case RecordFinals():
            return _record_finals(command, state)
        case End():
            return _end(command, state)
        case Fail():
            return _fail(command, state)
    raise TypeError(f"unknown command {type(command).__name__}")


def _claim(command: Claim, state: LiveSession) -> list[ev.Event]:
    if state.ended:
        raise Rejected("session_ended", "the live session has ended")
    spec = command.spec
    if not state.started:
        return [
            ev.LiveSessionStarted(
                job_id=spec.job_id,
                sample_rate=spec.sample_rate,
                encoding=spec.encoding,
                options=spec.options,
                worker=command.worker,
                model=command.model,
            )
        ]
    if state.worker == command.worker:
        return []
    return [ev.LiveSessionTakenOver(job_id=state.job_id, worker=command.worker, resumed_from_s=state.finalized_until_s)]


def _record_finals(command: RecordFinals, state: LiveSession) -> list[ev.Event]:
    _require_open(state)
    segments = command.segments
    if not segments:
        return []
    expected = list(range(state.next_index, state.next_index + len(segments)))
    if [s.index for s in segments] != expected:
        raise Rejected("final_out_of_order", f"expected finals {expected}, got {[s.index for s in segments]}")
    return [ev.SegmentsTranscribed(job_id=state.job_id, segments=segments, speech_final=command.speech_final)]


def _end(command: End, state: LiveSession) -> list[ev.Event]:
    if state.ended:
        return []
    _require_open(state)
    return [
        ev.LiveSessionEnded(
            job_id=state.job_id,
            reason=command.reason,
            duration_s=command.duration_s,
            blob_key=command.blob_key,
            blob_digest=command.blob_digest,
            size_bytes=command.size_bytes,
            stats=state.finals.statistics(),
        ),
        ev.TranscriptionCompleted(
            job_id=state.job_id,
            language=command.language,
            duration_s=command.duration_s,
            segment_count=state.finals.count,
            processing_s=command.processing_s,
        ),
    ]


def _fail(command: Fail, state: LiveSession) -> list[ev.Event]:
    """The job fails first, so a client following the session reads the error before the end."""
    if state.ended:
        return []
    _require_open(state)
    audio = command.audio
    return [
        ev.TranscriptionFailed(job_id=state.job_id, error_code=command.error_code, message=command.message),
        ev.LiveSessionEnded(
            job_id=state.job_id,
            reason="failed",
            duration_s=audio.duration_s,
            blob_key=audio.blob_key,
            blob_digest=audio.blob_digest,
            size_bytes=audio.size_bytes,
            stats=state.finals.statistics(),
        ),
    ]


def _require_open(state: LiveSession) -> None:
    if not state.started:
        raise Rejected("session_not_started", "the live session has not started")
    if state.ended:
        raise Rejected("session_ended", "the live session has ended")


def statistics(finals: list[ev.Segment]) -> ev.LiveSessionStats:
    """Final segment count, mean confidence, speech duration and words per minute of speech, from finals only."""
    return FinalsTally().add(finals).statistics()


DECIDER: Decider[Claim | RecordFinals | End | Fail, ev.Event, LiveSession] = Decider(
    initial=LiveSession(), decide=decide, evolve=evolve
)
