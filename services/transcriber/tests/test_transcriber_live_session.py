"""The live session decider and its statistics: pure, no IO."""

import math

from tests.decider import Scenario
from voxledger.contracts import events as ev
from voxledger.contracts.commands import RequestTranscription
from voxledger.contracts.live import LiveSessionSpec
from voxledger.transcriber.domain import recording
from voxledger.transcriber.live.domain.session import (
    Claim,
    End,
    Fail,
    LiveSession,
    RecordFinals,
    SavedAudio,
    claims_exhausted,
    decide,
    end_reason,
    evolve,
    statistics,
)

JOB = "0190f0c0-0000-7000-8000-000000000001"
SPEC = LiveSessionSpec(
    tenant_id="t", job_id=JOB, sample_rate=16000, encoding="pcm_s16le", options=ev.TranscriptionOptions()
)


def final(index: int, start: float, end: float, text: str, probs: tuple[float, ...] = (0.9,)) -> ev.Segment:
    step = (end - start) / len(probs)
    words = [ev.Word(start + i * step, start + (i + 1) * step, f" w{i}", p) for i, p in enumerate(probs)]
    return ev.Segment(index=index, start=start, end=end, text=text, avg_logprob=-0.1, no_speech_prob=0.0, words=words)


def end(reason: ev.LiveEndReason = "stopped") -> End:
    return End(
        reason=reason,
        duration_s=9.0,
        blob_key="recordings/x",
        blob_digest="sha256:0",
        size_bytes=10,
        language="en",
        processing_s=9.5,
    )


def session(*commands) -> Scenario[LiveSession]:
    """A live session after `commands`, each decided on the state the ones before it left."""
    live = Scenario(decide, evolve, LiveSession())
    live.when(*commands)
    return live


def test_the_first_claim_starts_the_session_and_a_second_worker_takes_it_over():
    live = session(Claim(spec=SPEC, worker="a", model="tiny.en"))
    assert live.history == [
        ev.LiveSessionStarted(
            job_id=JOB, sample_rate=16000, encoding="pcm_s16le", options=SPEC.options, worker="a", model="tiny.en"
        )
    ]
    assert live.when(Claim(spec=SPEC, worker="a", model="tiny.en")) == []
    live = session(Claim(spec=SPEC, worker="a", model="m"), RecordFinals(segments=[final(0, 0.0, 2.5, "Hello.")]))
    taken = live.when(Claim(spec=SPEC, worker="b", model="m"))
    assert taken == [ev.LiveSessionTakenOver(job_id=JOB, worker="b", resumed_from_s=2.5)]


def test_finals_are_accepted_in_index_order_only():
    live = session(Claim(spec=SPEC, worker="a", model="m"), RecordFinals(segments=[final(0, 0, 1, "a.")]))
    assert live.rejects(RecordFinals(segments=[final(0, 0, 1, "a.")])) == "final_out_of_order"
    live.rejects(RecordFinals(segments=[final(2, 1, 2, "c.")]))
    assert live.when(RecordFinals(segments=[final(1, 1, 2, "b.")]))[0].segments[0].index == 1
    assert session().rejects(RecordFinals(segments=[final(0, 0, 1, "a.")])) == "session_not_started"


def test_ending_appends_the_statistics_and_completes_the_job_once():
    finals = [final(0, 0.0, 3.0, "one two three.", (0.9, 0.8, 0.7)), final(1, 4.0, 5.0, "four.", (0.5,))]
    live = session(Claim(spec=SPEC, worker="a", model="m"), RecordFinals(segments=finals), end())
    ended, completed = live.history[-2:]
    assert ended.stats == ev.LiveSessionStats(final_count=2, mean_confidence=0.65, speech_s=4.0, words_per_minute=60.0)
    assert completed == ev.TranscriptionCompleted(
        job_id=JOB, language="en", duration_s=9.0, segment_count=2, processing_s=9.5
    )
    assert live.state.ended and live.when(end()) == []
    assert live.rejects(Claim(spec=SPEC, worker="b", model="m")) == "session_ended"


def test_statistics_of_no_finals_are_zero():
    assert statistics([]) == ev.LiveSessionStats(final_count=0, mean_confidence=0.0, speech_s=0.0, words_per_minute=0.0)
    no_words = ev.Segment(index=0, start=0.0, end=2.0, text="hi there", avg_logprob=math.log(0.5), no_speech_prob=0.0)
    assert statistics([no_words]).mean_confidence == 0.5


def test_an_ended_session_is_a_recording_that_can_be_transcribed_again():
    live = session(Claim(spec=SPEC, worker="a", model="m"), RecordFinals(segments=[final(0, 0, 1, "a.")]))
    during = Scenario(recording.decide, recording.evolve, recording.Recording()).given(*live.history)
    during.rejects(RequestTranscription(recording_id="r", job_id="j2"))  # no saved audio yet
    live = session(Claim(spec=SPEC, worker="a", model="m"), RecordFinals(segments=[final(0, 0, 1, "a.")]), end())
    after = recording.fold(live.history)
    assert after.blob_key == "recordings/x" and after.jobs[JOB].status == "completed"
    assert recording.decide(RequestTranscription(recording_id="r", job_id="j2"), after) == [
        ev.TranscriptionRequested(job_id="j2", options=ev.TranscriptionOptions())
    ]


def test_a_session_that_cannot_be_served_fails_its_job_then_ends_once():
    live = session(Claim(spec=SPEC, worker="a", model="nope"), RecordFinals(segments=[final(0, 0, 1, "a.")]))
    saved = SavedAudio(duration_s=1.5, blob_key="recordings/x", blob_digest="sha256:0", size_bytes=48)
    failed, ended = live.when(Fail(error_code="model_unavailable", message="the model cannot be loaded", audio=saved))
    assert failed == ev.TranscriptionFailed(
        job_id=JOB, error_code="model_unavailable", message="the model cannot be loaded"
    )
    assert (ended.reason, ended.duration_s, ended.blob_key, ended.stats.final_count) == (
        "failed",
        1.5,
        "recordings/x",
        1,
    )
    assert live.state.ended and live.when(Fail(error_code="x", message="y", audio=saved)) == []
    assert recording.fold(live.history).jobs[JOB].status == "failed"


def test_claims_are_counted_and_bounded():
    live = session(Claim(spec=SPEC, worker="a", model="m"), Claim(spec=SPEC, worker="b", model="m"))
    assert live.state.claims == 2
    assert not claims_exhausted(live.state, 3) and claims_exhausted(live.state, 2)
    assert not claims_exhausted(LiveSession(), 0), "a session nobody started has nothing to end"
    assert not claims_exhausted(session(Claim(spec=SPEC, worker="a", model="m"), end()).state, 1)


def test_an_end_marker_s_reason_is_one_the_log_can_hold():
    assert [end_reason(r) for r in ("stopped", "inactivity", "max_duration")] == [
        "stopped",
        "inactivity",
        "max_duration",
    ]
    assert end_reason(None) == end_reason("failed") == end_reason("x\u0000y") == "stopped"
