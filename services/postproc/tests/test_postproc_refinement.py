"""Refinement: fillers and repeats removed, punctuation tidied, paragraphs at pauses, sources kept."""

import copy

import pytest

from voxledger.contracts.insights import TranscriptLine
from voxledger.postproc.domain.fillers import find_fillers, strip_fillers
from voxledger.postproc.domain.refinement import refine


def line(i: int, start: float, end: float, text: str, speaker: str | None = None) -> TranscriptLine:
    return TranscriptLine(index=i, start=start, end=end, text=text, speaker=speaker)


@pytest.mark.parametrize(
    "text,expected,removed",
    [
        ("I, uh, think so.", "I think so.", 1),
        ("Um, we agreed.", "we agreed.", 1),
        ("It was late, you know.", "It was late.", 1),
        ("It was, like, really good.", "It was really good.", 1),
        ("Like, we never tested it.", "we never tested it.", 1),
        ("You know, I agree.", "I agree.", 1),
        ("I um think", "I think", 1),
        ("Hmm.", "", 1),
        ("so, um, like, we went", "so we went", 2),
        # ordinary uses stay
        ("I like pizza.", "I like pizza.", 0),
        ("Do you know the answer?", "Do you know the answer?", 0),
        ("It looks like rain, like yesterday.", "It looks like rain, like yesterday.", 0),
        ("The umbrella is blue, uh-huh.", "The umbrella is blue, uh-huh.", 0),
    ],
)
def test_filler_detector(text, expected, removed):
    assert strip_fillers(text) == (expected, removed)
    assert len(find_fillers(text)) == removed


def test_fillers_and_repeats_removed_but_not_ordinary_words():
    lines = [
        line(0, 0.0, 3.0, "Um, so the the plan is simple."),
        line(1, 3.1, 6.0, "I like pizza, and I I think you know the answer."),
        line(2, 6.1, 9.0, "It was, like, really, you know, good. I think I think we should ship."),
        line(3, 9.1, 12.0, "I know that that is true, and I had had enough."),
    ]
    result = refine(lines)
    assert result.fillers_removed == 3
    assert result.repeats_removed == 3
    assert result.text == (
        "So the plan is simple. I like pizza, and I think you know the answer. It was really good. "
        "I think we should ship. I know that that is true, and I had had enough."
    )


def test_raw_transcript_is_not_modified():
    lines = [line(0, 0.0, 2.0, "um the the thing"), line(1, 5.0, 6.0, "uh yes")]
    before = copy.deepcopy(lines)
    refine(lines)
    assert lines == before


def test_paragraphs_split_at_long_pauses_and_keep_their_sources():
    lines = [
        line(0, 0.0, 4.0, "First point here."),
        line(1, 5.9, 9.0, "Still the first paragraph."),  # 1.9 s gap
        line(2, 11.0, 14.0, "After a pause, a second one."),  # 2.0 s gap
        line(3, 14.5, 18.0, "It goes on."),
        line(4, 30.0, 33.0, "A third, after a long silence."),
    ]
    result = refine(lines)
    assert [(p.start, p.end, p.source_segments) for p in result.paragraphs] == [
        (0.0, 9.0, [0, 1]),
        (11.0, 18.0, [2, 3]),
        (30.0, 33.0, [4]),
    ]
    assert result.text == "\n\n".join(p.text for p in result.paragraphs)
    assert result.text.split("\n\n")[1] == "After a pause, a second one. It goes on."
    # the pause is a parameter
    assert len(refine(lines, pause_s=1.5).paragraphs) == 4
    assert len(refine(lines, pause_s=20.0).paragraphs) == 1


def test_paragraphs_split_at_a_speaker_change_and_at_the_maximum_length():
    turns = [line(0, 0, 2, "Hello there.", "A"), line(1, 2.1, 4, "Hi.", "B"), line(2, 4.1, 6, "How are you?", "B")]
    assert [p.source_segments for p in refine(turns).paragraphs] == [[0], [1, 2]]

    long = [line(i, i * 3.0, i * 3.0 + 2.9, "This sentence has exactly eight words in it.") for i in range(40)]
    paragraphs = refine(long, max_words=50).paragraphs
    assert len(paragraphs) > 1
    assert all(len(p.text.split()) <= 56 for p in paragraphs)
    assert [i for p in paragraphs for i in p.source_segments] == list(range(40))


def test_capitalization_and_punctuation_are_tidied():
    lines = [line(0, 0, 2, "i think , so .  and then i'm done."), line(1, 2.2, 4, "what do you think")]
    assert refine(lines).text == "I think, so. And then I'm done. What do you think?"
    bare = [line(0, 0, 2, "um hello everyone"), line(1, 2.2, 4, "is everyone here"), line(2, 4.2, 6, "ok lets start")]
    assert refine(bare).text == "Hello everyone. Is everyone here? Ok lets start."


def test_a_paragraph_of_fillers_only_disappears():
    lines = [line(0, 0, 1, "Hmm."), line(1, 10, 12, "Real words.")]
    result = refine(lines)
    assert [p.source_segments for p in result.paragraphs] == [[1]]
    assert result.fillers_removed == 1


def test_meeting_paragraphs_follow_the_topic_breaks(meeting_lines):
    result = refine(meeting_lines)
    starts = [p.start for p in result.paragraphs]
    # the two 4 s topic breaks in the script start paragraphs
    assert any(abs(s - 67.46) < 0.01 for s in starts)
    assert any(abs(s - 131.42) < 0.01 for s in starts)
    covered = [i for p in result.paragraphs for i in p.source_segments]
    assert covered == [ln.index for ln in meeting_lines]
    for p in result.paragraphs:
        sources = [ln for ln in meeting_lines if ln.index in p.source_segments]
        assert p.start == sources[0].start and p.end == sources[-1].end
    assert result.fillers_removed == 0  # Whisper writes no fillers here
