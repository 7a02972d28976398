"""Passages for asking: sized for the embedding model without losing a word, and embedded once per job."""

from tests.decider import Scenario
from voxledger.contracts import events as ev
from voxledger.contracts.insights import TranscriptLine
from voxledger.postproc.domain.embedding import PART_SIZE, EmbeddingState, EmbedPassages, decide, evolve
from voxledger.postproc.domain.passages import DIGEST_TOKENS, PASSAGE_TOKENS, passages
from voxledger.runtime.embeddings import shared_embedder

JOB = "job-1"
count = shared_embedder().count_tokens


def test_turns_group_a_speaker_s_lines_and_a_long_line_is_split_never_cut():
    lines = [
        TranscriptLine(index=0, start=0.0, end=2.0, text="Hello there.", speaker="S1"),
        TranscriptLine(index=1, start=2.0, end=4.0, text="How are you?", speaker="S1"),
        TranscriptLine(index=2, start=4.0, end=64.0, text=" ".join(f"word{i}" for i in range(300)), speaker="S2"),
    ]
    found = passages(lines, count)
    turns = [p for p in found if p.kind == "turn"]
    assert turns[0].text == "Hello there. How are you?" and (turns[0].start, turns[0].end) == (0.0, 4.0)
    assert all(p.speaker == "S2" for p in turns[1:]) and len(turns) > 2
    said = " ".join(p.text for p in turns[1:]).split()
    assert said == lines[2].text.split(), "every word in exactly one passage, in order"
    assert turns[-1].end == 64.0 and all(a.end == b.start for a, b in zip(turns[1:], turns[2:], strict=False))
    assert all(count(p.text) <= PASSAGE_TOKENS for p in turns), "each fits the model without truncation"
    (digest,) = [p for p in found if p.kind == "digest"]
    assert digest.index == len(turns) and digest.text and count(digest.text) <= DIGEST_TOKENS


def test_a_job_is_embedded_once_in_parts_and_never_after_its_deletion():
    segment = ev.Segment(index=0, start=0.0, end=2.0, text="Hi.", avg_logprob=-0.1, no_speech_prob=0.0)
    completed = ev.TranscriptionCompleted(job_id=JOB, language="en", duration_s=2, segment_count=1, processing_s=1)
    scenario = Scenario(decide, evolve, EmbeddingState()).given(
        ev.TranscriptionRequested(job_id=JOB, options=ev.TranscriptionOptions()),
        ev.SegmentsTranscribed(job_id=JOB, segments=[segment]),
        completed,
    )
    passage = ev.Passage(index=0, kind="turn", start=0, end=2, text="Hi.", vector=b"\0" * 8)
    embed = EmbedPassages(job_id=JOB, model="m", dimensions=2, passages=[passage] * (PART_SIZE + 1))
    parts = scenario.when(embed)
    assert [len(p.passages) for p in parts] == [PART_SIZE, 1] and [p.complete for p in parts] == [False, True]
    assert scenario.when(embed) == [], "embedded once"
    scenario.given(ev.RecordingDeleted())
    assert scenario.rejects(embed) == "recording_deleted"


def test_the_transcript_folds_whatever_became_of_the_insight_runs():
    started = ev.InsightStarted(job_id=JOB, run_id="a run never requested", kind="summary")
    assert evolve(EmbeddingState(), started) == EmbeddingState()
