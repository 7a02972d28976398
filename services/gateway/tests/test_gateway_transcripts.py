"""Transcript renderings: plain text, SubRip (SRT) and WebVTT."""

import re
from dataclasses import dataclass

import pytest

from voxledger.contracts.events import Segment, Word
from voxledger.gateway.domain.speakers import label
from voxledger.gateway.domain.transcripts import WIDEN_MS, timed_cues, to_srt, to_text, to_vtt


@dataclass
class Row:
    start: float
    end: float
    text: str


ROWS = [Row(0.0, 1.5, " Hello there."), Row(1.5, 3.25, " General Kenobi!"), Row(4.0, 6.0, "  Bye.  ")]

SRT_TIME = r"\d{2,}:[0-5]\d:[0-5]\d,\d{3}"
VTT_TIME = r"\d{2,}:[0-5]\d:[0-5]\d\.\d{3}"


def seconds(stamp: str) -> float:
    h, m, rest = stamp.split(":")
    s, ms = re.split(r"[,.]", rest)
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_srt(doc: str) -> list[tuple[int, float, float, str]]:
    cues = []
    for block in doc.strip("\n").split("\n\n"):
        number, timing, *text = block.split("\n")
        m = re.fullmatch(f"({SRT_TIME}) --> ({SRT_TIME})", timing)
        assert m, timing
        cues.append((int(number), seconds(m[1]), seconds(m[2]), "\n".join(text)))
    return cues


def parse_vtt(doc: str) -> list[tuple[float, float, str]]:
    header, _, body = doc.partition("\n\n")
    assert header == "WEBVTT"
    cues = []
    for block in body.strip("\n").split("\n\n"):
        timing, *text = block.split("\n")
        m = re.fullmatch(f"({VTT_TIME}) --> ({VTT_TIME})", timing)
        assert m, timing
        cues.append((seconds(m[1]), seconds(m[2]), "\n".join(text)))
    return cues


def test_srt_is_numbered_from_one_with_comma_millis():
    doc = to_srt(ROWS)
    cues = parse_srt(doc)
    assert [c[0] for c in cues] == [1, 2, 3]
    assert cues[0] == (1, 0.0, 1.5, "Hello there.")
    assert cues[1] == (2, 1.5, 3.25, "General Kenobi!")
    assert cues[2] == (3, 4.0, 6.0, "Bye.")
    assert doc.startswith("1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n2\n")
    assert doc.endswith("\n")


def test_vtt_has_header_and_dot_millis_and_no_numbers():
    doc = to_vtt(ROWS)
    assert doc.startswith("WEBVTT\n\n")
    cues = parse_vtt(doc)
    assert cues == [(0.0, 1.5, "Hello there."), (1.5, 3.25, "General Kenobi!"), (4.0, 6.0, "Bye.")]
    assert "00:00:01.500 --> 00:00:03.250\nGeneral Kenobi!" in doc
    assert "," not in doc.splitlines()[2]


def test_hours_are_formatted():
    rows = [Row(3599.9995, 3600.0, "a"), Row(3723.456, 3725.0, "b"), Row(36000.0, 36001.001, "c")]
    srt = to_srt(rows)
    assert "01:00:00,000 --> 01:00:00,500" in srt  # 3599.9995 rounds up to a full hour, not 00:59:60
    assert "01:02:03,456 --> 01:02:05,000" in srt
    assert "10:00:00,000 --> 10:00:01,001" in srt
    vtt = to_vtt(rows)
    assert "01:02:03.456 --> 01:02:05.000" in vtt


def test_rounding_never_produces_sixty_seconds_or_a_thousand_millis():
    rows = [Row(59.9996, 119.9999, "x"), Row(179.9995, 180.0, "y")]
    for doc in (to_srt(rows), to_vtt(rows)):
        for stamp in re.findall(r"\d{2,}:\d{2}:\d{2}[,.]\d{3}", doc):
            _, m, rest = stamp.split(":")
            assert int(m) < 60 and int(rest[:2]) < 60


@pytest.mark.parametrize("render,parse", [(to_srt, lambda d: [c[1:] for c in parse_srt(d)]), (to_vtt, parse_vtt)])
def test_times_never_go_backwards_even_when_segments_overlap(render, parse):
    rows = [
        Row(0.0, 2.0, "one"),
        Row(1.5, 3.0, "overlaps the previous one"),
        Row(2.5, 2.7, "entirely inside the previous one"),
        Row(5.0, 4.0, "ends before it starts"),
        Row(4.5, 6.0, "starts before the previous end"),
    ]
    cues = parse(render(rows))
    assert " ".join(text for _, _, text in cues) == " ".join(r.text for r in rows), "every word, once, in order"
    last_end = 0.0
    for start, end, _ in cues:
        assert start >= last_end
        assert end > start
        last_end = end
    assert cues[0][:2] == (0.0, 2.0)
    assert cues[2] == (3.0, 3.5, "entirely inside the previous one"), "widened into the silence after it"


def test_negative_times_are_clamped_to_zero():
    cues = parse_srt(to_srt([Row(-0.5, 0.5, "x")]))
    assert cues[0][1:3] == (0.0, 0.5)


def test_empty_transcripts():
    assert to_srt([]) == ""
    assert to_vtt([]).startswith("WEBVTT")
    assert to_vtt([]).strip() == "WEBVTT"
    assert to_text([]) == "\n"


def test_text_is_one_trimmed_line_per_segment_without_blanks():
    rows = [Row(0, 1, "  first "), Row(1, 2, "   "), Row(2, 3, "second")]
    assert to_text(rows) == "first\nsecond\n"


def test_any_object_with_the_cue_attributes_and_integer_times_works():
    class Record:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    doc = to_srt([Record(start=1, end=2, text="int seconds")])
    assert parse_srt(doc) == [(1, 1.0, 2.0, "int seconds")]


def _split_at_a_point(before_ends: float) -> list:
    """A segment whose middle word the model timed as a point (1.2 s), spoken by another speaker than the rest."""
    words = [Word(0.0, before_ends, " Hello", 0.9), Word(1.2, 1.2, " there", 0.9), Word(1.2, 3.0, " friend", 0.9)]
    segment = Segment(
        index=0, start=0.0, end=3.0, text=" Hello there friend", avg_logprob=-0.2, no_speech_prob=0.01, words=words
    )
    turns = [(0.0, 1.0, "S1"), (1.1, 1.25, "S2"), (1.3, 3.0, "S1")]
    return label([segment], turns, {})


def test_a_speaker_split_at_a_point_in_time_never_makes_a_zero_length_cue():
    split = _split_at_a_point(before_ends=0.6)
    assert [(s.start, s.end, s.speaker) for s in split][1] == (1.2, 1.2, "S2"), "the split the issue showed"
    cues = parse_srt(to_srt(split))
    assert [c[1:] for c in cues] == [(0.0, 0.6, "S1: Hello"), (0.7, 1.2, "S2: there"), (1.2, 3.0, "S1: friend")]
    assert parse_vtt(to_vtt(split))[1] == (0.7, 1.2, "<v S2>there"), "widened back into the silence before it"


def test_a_point_with_no_silence_around_it_joins_a_neighbour_and_loses_no_word():
    for render, parse in ((to_srt, lambda d: [c[1:] for c in parse_srt(d)]), (to_vtt, parse_vtt)):
        cues = parse(render(_split_at_a_point(before_ends=1.2)))
        assert all(end > start for start, end, _ in cues), cues
        assert "Hello" in cues[0][2] and "there" in cues[0][2] and "friend" in cues[-1][2], cues


def test_no_cue_is_empty_and_a_point_first_or_last_is_widened():
    rows = [Row(0.0, 0.0, "first"), Row(0.0, 1.0, "  "), Row(2.0, 2.0, "last")]
    assert timed_cues(rows) == [(0.0, WIDEN_MS / 1000, "first", None), (2.0, 2.0 + WIDEN_MS / 1000, "last", None)]
    crowded = [Row(0.0, 0.0, "point"), Row(0.0, 2.0, "next")]  # no time before or after: carried to the next
    assert timed_cues(crowded) == [(0.0, 2.0, "point next", None)]
