"""The pure speaker-turn domain: frames to spans, spans to windows, labelled windows to turns, the count."""

import numpy as np
import pytest

from tests.decider import Scenario
from voxledger.contracts import events as ev
from voxledger.contracts.commands import RequestDiarization
from voxledger.contracts.decisions import Rejected
from voxledger.transcriber.domain.recording import (
    Recording,
    RecordRediarization,
    RecordSpeakers,
    ReportRediarizationProgress,
    StartAttempt,
    decide,
    evolve,
)
from voxledger.transcriber.domain.speakers import (
    FrameGrid,
    SpeakerCount,
    Turn,
    active_spans,
    add_overlaps,
    estimate_speakers,
    label_turns,
    merge,
    overlap_add,
    speaker_count,
    windows,
)

GRID = FrameGrid(step=0.1, offset=0.0)


def test_active_spans_bridge_short_gaps_and_drop_blips():
    score = np.zeros(100, dtype=np.float32)
    score[10:30] = 0.9  # 1.0 .. 3.0
    score[31:40] = 0.9  # a 0.1 s gap: bridged
    score[60:61] = 0.9  # a 0.1 s blip: dropped
    score[70:90] = 0.9
    assert active_spans(score, GRID, min_on=0.25, min_off=0.1) == [(1.0, 4.0), (7.0, 9.0)]


def test_windows_cover_each_region_and_end_at_its_end():
    spans = windows([(0.0, 1.0), (2.0, 5.0)], length=1.5, shift=0.75)
    assert spans[0] == (0.0, 1.0)  # a short region is one window
    assert spans[1] == (2.0, 3.5) and spans[-1] == (3.5, 5.0)
    assert all(b - a <= 1.5 + 1e-9 for a, b in spans)


def test_labelled_windows_become_turns_named_in_order_of_appearance():
    spans = [(0.0, 1.5), (0.75, 2.25), (1.5, 3.0), (4.0, 5.5)]
    turns = label_turns(spans, [7, 7, 3, 7])
    assert [t.speaker for t in turns] == ["S1", "S2", "S1"]
    # The change falls halfway between the centres of the windows that disagree (1.5 and 2.25).
    assert turns[0] == Turn(0.0, 1.875, "S1") and turns[1] == Turn(1.875, 3.0, "S2")
    assert turns[2] == Turn(4.0, 5.5, "S1")


def test_an_overlap_adds_the_nearest_other_speaker():
    turns = [Turn(0.0, 4.0, "S1"), Turn(4.0, 8.0, "S2"), Turn(9.0, 12.0, "S3")]
    out = add_overlaps(turns, [(3.5, 4.0)])
    assert Turn(3.5, 4.0, "S2") not in out  # S2's own turn grows to cover it
    assert Turn(3.5, 8.0, "S2") in out and Turn(0.0, 4.0, "S1") in out
    assert add_overlaps([Turn(0.0, 2.0, "S1")], [(0.5, 1.0)]) == [Turn(0.0, 2.0, "S1")]  # nobody else


def test_merge_joins_one_speakers_touching_turns():
    merged = merge([Turn(2.0, 3.0, "S1"), Turn(0.0, 2.0, "S1"), Turn(1.0, 1.5, "S2")])
    assert merged == [Turn(0.0, 3.0, "S1"), Turn(1.0, 1.5, "S2")]


@pytest.mark.parametrize(
    ("count", "windows_", "bounds"),
    [
        (SpeakerCount(), 40, (1, 8)),
        (SpeakerCount(exact=2), 40, (2, 2)),
        (SpeakerCount(min_speakers=2, max_speakers=4), 40, (2, 4)),
        (SpeakerCount(max_speakers=5), 3, (1, 3)),  # never more speakers than windows
        (SpeakerCount(exact=4), 1, (1, 1)),
    ],
)
def test_speaker_count_bounds(count, windows_, bounds):
    assert count.bounds(windows_) == bounds


def test_the_eigengap_finds_the_number_of_groups_within_bounds():
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(3, 192))
    points = np.concatenate([c + 0.35 * rng.normal(size=(20, 192)) for c in centres]).astype(np.float32)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    assert estimate_speakers(points, 1, 8) == 3
    assert estimate_speakers(points, 1, 2) == 2  # bounded by the request
    assert estimate_speakers(points, 4, 4) == 4


def test_overlap_add_weights_chunk_centres_and_averages():
    chunks = np.ones((2, 10, 1), dtype=np.float32)
    chunks[1] *= 3.0
    track = overlap_add(chunks, [0, 5], 15)
    assert track.shape == (15, 1)
    assert track[2, 0] == pytest.approx(1.0) and track[12, 0] == pytest.approx(3.0)
    assert 1.0 < track[7, 0] < 3.0


# --- the Recording decider: speaker turns of a running attempt, once ---


def test_speakers_are_recorded_once_per_job_and_only_by_its_attempt():
    job = "0190f0c0-0000-7000-8000-000000000001"
    agg = Scenario(decide, evolve, Recording()).given(
        ev.RecordingUploaded(filename="a.ogg", content_type="audio/ogg", size_bytes=1, blob_key="k", blob_digest="d"),
        ev.TranscriptionRequested(job_id=job, options=ev.TranscriptionOptions(speakers="auto")),
    )
    agg.when(StartAttempt(job_id=job, worker="w1", model="tiny.en"))
    turns = [ev.SpeakerTurn(0.0, 1.5, "S1"), ev.SpeakerTurn(1.5, 3.0, "S2")]
    with pytest.raises(Rejected) as stale:
        agg.when(RecordSpeakers(job_id=job, attempt=9, turns=turns, processing_s=0.5))
    assert stale.value.code == "attempt_superseded"
    produced = agg.when(RecordSpeakers(job_id=job, attempt=1, turns=turns, processing_s=0.5))
    assert produced == [ev.SpeakersDiarized(job_id=job, turns=turns, processing_s=0.5)]
    assert agg.state.jobs[job].diarized  # a retried attempt skips diarization
    assert agg.when(RecordSpeakers(job_id=job, attempt=1, turns=turns, processing_s=0.5)) == []


def test_the_options_say_whether_and_how_many():
    assert speaker_count("off", None, None) is None
    assert speaker_count("auto", 2, None) == SpeakerCount(min_speakers=2)
    assert speaker_count(3, None, None) == SpeakerCount(exact=3)


def test_a_rerun_replaces_the_turns_of_a_completed_job_once():
    job = "0190f0c0-0000-7000-8000-000000000001"
    agg = Scenario(decide, evolve, Recording()).given(
        ev.RecordingUploaded(filename="a.ogg", content_type="audio/ogg", size_bytes=1, blob_key="k", blob_digest="d"),
        ev.TranscriptionRequested(job_id=job, options=ev.TranscriptionOptions(speakers="auto")),
        ev.TranscriptionStarted(job_id=job, attempt=1, worker="w", model="tiny.en"),
        ev.SpeakersDiarized(job_id=job, turns=[ev.SpeakerTurn(0.0, 1.0, "S1")], processing_s=0.1),
        ev.SpeakersNamed(job_id=job, names={"S1": "Maria"}),
    )
    options = ev.TranscriptionOptions(speakers=2)
    with pytest.raises(Rejected) as early:
        agg.when(RequestDiarization(recording_id="r", job_id=job, run_id="run-1", options=options))
    assert early.value.code == "job_not_completed"
    agg.given(ev.TranscriptionCompleted(job_id=job, language="en", duration_s=2.0, segment_count=0, processing_s=1.0))
    requested = agg.when(RequestDiarization(recording_id="r", job_id=job, run_id="run-1", options=options))
    assert requested == [ev.DiarizationRequested(job_id=job, run_id="run-1", options=options)]
    assert agg.when(RequestDiarization(recording_id="r", job_id=job, run_id="run-1", options=options)) == []
    progress = ReportRediarizationProgress(job_id=job, run_id="run-1", progress=0.4)
    assert agg.when(progress) == [ev.DiarizationProgressed(job_id=job, run_id="run-1", progress=0.4)]
    with pytest.raises(Rejected) as unknown:
        agg.when(ReportRediarizationProgress(job_id=job, run_id="run-9", progress=0.4))
    assert unknown.value.code == "run_not_found"
    turns = [ev.SpeakerTurn(0.0, 1.0, "S1"), ev.SpeakerTurn(1.0, 2.0, "S2")]
    done = agg.when(RecordRediarization(job_id=job, run_id="run-1", turns=turns, processing_s=0.2))
    assert done == [ev.SpeakersDiarized(job_id=job, turns=turns, processing_s=0.2, run_id="run-1")]
    assert agg.state.jobs[job].speaker_names == {} and agg.state.jobs[job].speaker_labels == {"S1", "S2"}
    assert agg.when(RecordRediarization(job_id=job, run_id="run-1", turns=turns, processing_s=0.2)) == []
    assert agg.when(progress) == [], "a finished run reports no more progress"
