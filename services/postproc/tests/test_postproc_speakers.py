"""Post-processing with speakers: lines labelled from the turns and names, analytics per speaker."""

from voxledger.contracts import events as ev
from voxledger.contracts.insights import TranscriptLine
from voxledger.postproc.domain.analytics import analyze
from voxledger.postproc.domain.runs import fold

JOB = "0190f0c0-0000-7000-8000-000000000001"


def seg(index: int, start: float, end: float, text: str) -> ev.Segment:
    return ev.Segment(index=index, start=start, end=end, text=text, avg_logprob=-0.1, no_speech_prob=0.0)


def test_lines_take_the_speaker_of_their_turn_and_its_name_whichever_came_first():
    turns = [ev.SpeakerTurn(0.0, 2.0, "S1"), ev.SpeakerTurn(2.0, 4.0, "S2")]
    history: list[ev.Event] = [
        ev.TranscriptionRequested(job_id=JOB, options=ev.TranscriptionOptions(speakers="auto")),
        ev.SegmentsTranscribed(job_id=JOB, segments=[seg(0, 0.1, 1.9, " Hello.")]),
        ev.SpeakersDiarized(job_id=JOB, turns=turns, processing_s=0.1),
        ev.SegmentsTranscribed(job_id=JOB, segments=[seg(1, 2.1, 3.9, " Hi there.")]),
        ev.SpeakersNamed(job_id=JOB, names={"S1": "Maria", "S2": "S1"}),
    ]
    lines = fold(history).jobs[JOB].lines
    assert [ln.speaker for ln in lines] == ["Maria", "Maria"]
    rerun = [*history, ev.SpeakersDiarized(job_id=JOB, turns=turns, processing_s=0.1, run_id="r")]
    assert [ln.speaker for ln in fold(rerun).jobs[JOB].lines] == ["S1", "S2"]  # a re-run drops the names


def test_analytics_per_speaker():
    lines = [
        TranscriptLine(index=0, start=0.0, end=4.0, text="We should ship on Friday, right?", speaker="Ann"),
        TranscriptLine(index=1, start=3.5, end=5.0, text="Yes we should.", speaker="Tom"),  # interrupts
        TranscriptLine(index=2, start=5.5, end=7.0, text="Good.", speaker="Ann"),
        TranscriptLine(index=3, start=7.0, end=9.0, text="And the budget too.", speaker="Ann"),
    ]
    stats = {s.speaker: s for s in analyze(lines, 10.0).speakers}
    ann, tom = stats["Ann"], stats["Tom"]
    assert (ann.talk_time_s, ann.turns, ann.words, ann.questions) == (7.5, 2, 11, 1)
    assert (tom.talk_time_s, tom.turns, tom.words, tom.interruptions) == (1.5, 1, 3, 1)
    assert ann.share == round(7.5 / 9.0, 4) and ann.longest_monologue_s == 4.0
    assert ann.wpm == round(11 * 60 / 7.5, 2)


def test_talk_time_is_when_each_voice_was_heard_not_the_span_of_its_sentences():
    """Two sentences of S1 with a pause between them: the turn holds the pause, the sentence segments do not."""
    history: list[ev.Event] = [
        ev.TranscriptionRequested(job_id=JOB, options=ev.TranscriptionOptions(speakers="auto")),
        ev.SegmentsTranscribed(
            job_id=JOB,
            segments=[seg(0, 0.2, 2.0, " One."), seg(1, 2.6, 4.8, " Two."), seg(2, 5.4, 7.0, " Yes.")],
        ),
        ev.SpeakersDiarized(
            job_id=JOB, turns=[ev.SpeakerTurn(0.0, 5.0, "S1"), ev.SpeakerTurn(5.3, 7.2, "S2")], processing_s=0.1
        ),
        ev.SpeakersNamed(job_id=JOB, names={"S1": "Maria"}),
    ]
    job = fold(history).jobs[JOB]
    talk = {s.speaker: s.talk_time_s for s in analyze(job.lines, 7.2, turns=job.named_turns()).speakers}
    assert talk == {"Maria": 5.0, "S2": 1.9}
    assert {s.speaker: s.talk_time_s for s in analyze(job.lines, 7.2).speakers} == {"Maria": 4.0, "S2": 1.6}
