"""The insight-run Decider: each kind starts and settles once; a run completes once, after all kinds."""

from tests.decider import Scenario
from voxledger.contracts import events as ev
from voxledger.contracts.insights import INSIGHT_KINDS, Summary
from voxledger.postproc.domain.runs import (
    CompleteRun,
    FailInsight,
    FinishInsight,
    InsightState,
    OpenRun,
    StartInsight,
    decide,
    evolve,
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


def runs(history: list[ev.Event]) -> Scenario[InsightState]:
    """The job's insight runs, given what its log holds."""
    return Scenario(decide, evolve, InsightState()).given(*history)


def test_the_automatic_run_is_opened_once_with_every_kind_and_the_transcript():
    insights = runs(completed_job_history())
    assert [line.text for line in insights.state.jobs[JOB].lines] == ["Hello there."]
    assert insights.when(OpenRun(job_id=JOB)) == [
        ev.InsightsRequested(job_id=JOB, run_id=JOB, kinds=list(INSIGHT_KINDS))
    ]
    assert insights.when(OpenRun(job_id=JOB)) == [], "a redelivered completion opens nothing new"


def test_a_run_needs_a_completed_transcription():
    assert runs(completed_job_history()[:3]).rejects(OpenRun(job_id=JOB)) == "job_not_completed"


def test_each_kind_starts_and_settles_once_and_the_run_completes_after_all():
    insights = runs(completed_job_history())
    insights.when(OpenRun(job_id=JOB))
    for kind in INSIGHT_KINDS:
        assert [type(e) for e in insights.when(StartInsight(run_id=JOB, kind=kind))] == [ev.InsightStarted]
        assert insights.when(StartInsight(run_id=JOB, kind=kind)) == []
    insights.rejects(CompleteRun(run_id=JOB))  # kinds still running
    for kind in INSIGHT_KINDS:
        if kind == "summary":
            insights.when(FailInsight(run_id=JOB, kind=kind, error_code="insight_timeout", message="slow"))
        else:
            insights.when(FinishInsight(run_id=JOB, kind=kind, engine="builtin", payload=SUMMARY, processing_s=0.1))
        again = FinishInsight(run_id=JOB, kind=kind, engine="builtin", payload=SUMMARY, processing_s=0.1)
        assert insights.when(again) == [], "a settled kind does not settle twice"
    done = insights.when(CompleteRun(run_id=JOB))
    assert done[0].failed == ["summary"] and sorted(done[0].ready) == sorted(k for k in INSIGHT_KINDS if k != "summary")
    assert insights.rejects(CompleteRun(run_id=JOB)) == "run_completed"


def test_a_requested_rerun_covers_only_its_kinds():
    insights = runs([*completed_job_history(), ev.InsightsRequested(job_id=JOB, run_id="run-2", kinds=["summary"])])
    assert insights.state.runs["run-2"].open_kinds == ["summary"]
    insights.when(StartInsight(run_id="run-2", kind="summary"))
    insights.when(FinishInsight(run_id="run-2", kind="summary", engine="builtin", payload=SUMMARY, processing_s=0.1))
    done = insights.when(CompleteRun(run_id="run-2"))
    assert done[0].ready == ["summary"]
