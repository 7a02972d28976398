"""The insight-run Decider: each kind starts and settles once; a run completes once, after all kinds."""

import pytest

from voxledger.contracts import events as ev
from voxledger.contracts.insights import INSIGHT_KINDS, Summary
from voxledger.postproc.domain.runs import (
    CompleteRun,
    FailInsight,
    FinishInsight,
    OpenRun,
    Rejected,
    StartInsight,
    decide,
    evolve,
    fold,
)

JOB = "job-1"
SUMMARY = Summary(text="t", points=[], keywords=[])


def completed_job_history() -> list[ev.Event]:
    segment = ev.Segment(index=0, start=0.0, end=2.0, text="Hello there.", avg_logprob=-0.1, no_speech_prob=0.0)
    return [
        ev.TranscriptionRequested(job_id=JOB, options=ev.TranscriptionOptions()),
        ev.TranscriptionStarted(job_id=JOB, attempt=1, worker="w", model="tiny.en"),
        ev.SegmentsTranscribed(job_id=JOB, segments=[segment]),
        ev.TranscriptionCompleted(job_id=JOB, language="en", duration_s=2.5, segment_count=1, processing_s=0.3),
    ]


def apply(state, command):
    produced = decide(command, state)
    for event in produced:
        state = evolve(state, event)
    return state, produced


def test_the_automatic_run_is_opened_once_with_every_kind_and_the_transcript():
    state = fold(completed_job_history())
    assert [line.text for line in state.jobs[JOB].lines] == ["Hello there."]
    state, produced = apply(state, OpenRun(job_id=JOB))
    assert produced == [ev.InsightsRequested(job_id=JOB, run_id=JOB, kinds=list(INSIGHT_KINDS))]
    assert apply(state, OpenRun(job_id=JOB))[1] == [], "a redelivered completion opens nothing new"


def test_a_run_needs_a_completed_transcription():
    with pytest.raises(Rejected) as err:
        decide(OpenRun(job_id=JOB), fold(completed_job_history()[:3]))
    assert err.value.code == "job_not_completed"


def test_each_kind_starts_and_settles_once_and_the_run_completes_after_all():
    state, _ = apply(fold(completed_job_history()), OpenRun(job_id=JOB))
    for kind in INSIGHT_KINDS:
        state, started = apply(state, StartInsight(run_id=JOB, kind=kind))
        assert [type(e) for e in started] == [ev.InsightStarted]
        assert apply(state, StartInsight(run_id=JOB, kind=kind))[1] == []
    with pytest.raises(Rejected):
        decide(CompleteRun(run_id=JOB), state)  # kinds still running
    for kind in INSIGHT_KINDS:
        if kind == "summary":
            state, _ = apply(state, FailInsight(run_id=JOB, kind=kind, error_code="insight_timeout", message="slow"))
        else:
            state, _ = apply(state, FinishInsight(run_id=JOB, kind=kind, engine="builtin", payload=SUMMARY, processing_s=0.1))
        again = FinishInsight(run_id=JOB, kind=kind, engine="builtin", payload=SUMMARY, processing_s=0.1)
        assert apply(state, again)[1] == [], "a settled kind does not settle twice"
    state, done = apply(state, CompleteRun(run_id=JOB))
    assert done[0].failed == ["summary"] and sorted(done[0].ready) == sorted(k for k in INSIGHT_KINDS if k != "summary")
    with pytest.raises(Rejected) as err:
        decide(CompleteRun(run_id=JOB), state)
    assert err.value.code == "run_completed"


def test_a_requested_rerun_covers_only_its_kinds():
    history = [*completed_job_history(), ev.InsightsRequested(job_id=JOB, run_id="run-2", kinds=["summary"])]
    state = fold(history)
    assert state.runs["run-2"].open_kinds == ["summary"]
    state, _ = apply(state, StartInsight(run_id="run-2", kind="summary"))
    state, _ = apply(state, FinishInsight(run_id="run-2", kind="summary", engine="builtin", payload=SUMMARY, processing_s=0.1))
    _, done = apply(state, CompleteRun(run_id="run-2"))
    assert done[0].ready == ["summary"]
