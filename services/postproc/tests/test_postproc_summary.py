"""Summary: few central sentences from the transcript, in time order, with keywords."""

from voxledger.contracts.insights import TranscriptLine
from voxledger.postproc.domain.summary import summarize
from voxledger.postproc.domain.text import STOP_WORDS


def test_meeting_summary_points_are_few_in_time_order_and_from_the_transcript(meeting_lines):
    result = summarize(meeting_lines)
    assert 1 <= len(result.points) <= 5
    starts = [p.start for p in result.points]
    assert starts == sorted(starts)
    joined = " ".join(ln.text for ln in meeting_lines)
    for point in result.points:
        assert point.text in joined
        source = [ln for ln in meeting_lines if point.text in ln.text or ln.text in point.text]
        assert source and source[0].start <= point.start < point.end <= source[-1].end
        assert 0 < point.score <= 1
    assert max(p.score for p in result.points) == 1.0
    assert result.text == " ".join(p.text for p in result.points)


def test_meeting_keywords_name_its_topics(meeting_lines):
    keywords = summarize(meeting_lines).keywords
    assert 3 <= len(keywords) <= 8
    assert {"release", "budget", "customer"} <= set(keywords)
    assert not any(word in STOP_WORDS for kw in keywords for word in kw.split())


def test_max_points_is_respected(meeting_lines):
    assert len(summarize(meeting_lines, max_points=2).points) == 2
    assert summarize(meeting_lines, max_points=0).points == []


def test_the_central_sentence_wins():
    texts = [
        "The database migration is planned for the weekend.",
        "The migration needs a database backup first.",
        "Our database backup takes about two hours before any migration.",
        "My cat likes to sleep on the keyboard.",
        "Lunch was pizza with extra cheese today.",
    ]
    lines = [TranscriptLine(index=i, start=i * 5.0, end=i * 5.0 + 4.0, text=t) for i, t in enumerate(texts)]
    result = summarize(lines, max_points=1)
    assert [p.text for p in result.points] == [texts[2]] or [p.text for p in result.points] == [texts[1]]
    assert "database" in result.keywords or "migration" in result.keywords


def test_a_tiny_transcript_gets_one_point():
    lines = [TranscriptLine(index=0, start=0.0, end=3.0, text="We agreed to move the launch to March.")]
    result = summarize(lines)
    assert [p.text for p in result.points] == ["We agreed to move the launch to March."]


def test_numbers_spoken_as_words_are_never_keywords():
    texts = [
        "We need two designers and two developers for the two launches.",
        "The two designers start the launch plan in two weeks.",
        "Hiring two developers costs about fifty thousand for the launch.",
        "Two of the launches depend on the developers finishing the plan.",
    ]
    lines = [TranscriptLine(index=i, start=i * 5.0, end=i * 5.0 + 4.0, text=t) for i, t in enumerate(texts)]
    keywords = summarize(lines).keywords
    assert "launch" in " ".join(keywords) and "developer" in " ".join(keywords), keywords
    assert not {"two", "fifty", "thousand"} & {word for kw in keywords for word in kw.split()}, keywords
