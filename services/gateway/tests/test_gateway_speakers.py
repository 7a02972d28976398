"""Speakers on a transcript, pure: labels from turns, a segment split at a change, names, renderings, options."""

import pytest

from voxledger.contracts.events import Segment, Word
from voxledger.contracts.speakers import resolve, speaker_at
from voxledger.gateway.domain import transcripts
from voxledger.gateway.domain.errors import DomainError
from voxledger.gateway.domain.speakers import check_speakers, label, to_rttm

TURNS = [(0.0, 2.0, "S1"), (2.2, 5.0, "S2")]


def seg(index, start, end, text, words=None):
    return Segment(index=index, start=start, end=end, text=text, avg_logprob=-0.2, no_speech_prob=0.01, words=words)


def test_a_segment_spanning_a_change_is_split_between_words():
    words = [Word(0.0, 0.8, " Hello", 0.9), Word(0.9, 1.8, " there.", 0.9), Word(2.3, 3.0, " Hi", 0.9)]
    out = label([seg(0, 0.0, 3.0, " Hello there. Hi", words)], TURNS, {})
    assert [(s.speaker, s.text, s.start, s.end) for s in out] == [
        ("S1", " Hello there.", 0.0, 1.8),
        ("S2", " Hi", 2.3, 3.0),
    ]
    assert out[0].index == out[1].index == 0 and out[1].words == [words[2]]


def test_without_word_times_the_split_spreads_the_words_by_length():
    out = label([seg(3, 1.0, 4.0, " one two three four")], TURNS, {})
    assert [s.speaker for s in out] == ["S1", "S2"] and all(s.words is None for s in out)
    assert " ".join(s.text.strip() for s in out) == "one two three four"


def test_a_segment_in_a_gap_takes_the_nearest_turn_and_names_apply():
    assert speaker_at(2.12, 2.18, TURNS) == "S2" and speaker_at(1.0, 1.5, []) is None
    out = label([seg(0, 0.2, 1.0, " Hi")], TURNS, {"S1": "Maria"})
    assert out[0].speaker == "Maria" and out[0].text == " Hi"
    assert label([seg(0, 0.0, 1.0, " Hi")], [], {})[0].speaker is None  # not diarized: no speaker


def test_merges_resolve_through_labels_and_cycles_stop():
    names = {"S2": "S1", "S1": "Maria", "S3": "S4", "S4": "S3"}
    assert resolve("S2", names) == "Maria" and resolve("S1", names) == "Maria"
    assert resolve("S3", names) in {"S3", "S4"} and resolve("S9", names) == "S9"


def test_renderings_carry_the_names():
    out = label([seg(0, 0.0, 1.0, " Hello."), seg(1, 1.0, 1.9, " Again."), seg(2, 2.5, 4.0, " Hi.")], TURNS, {})
    assert transcripts.to_text(out) == "S1: Hello. Again.\nS2: Hi.\n"
    assert "\nS2: Hi.\n" in transcripts.to_srt(out)
    assert "<v S1>Hello." in transcripts.to_vtt(out) and "<v S2>Hi." in transcripts.to_vtt(out)
    plain = [seg(0, 0.0, 1.0, " Hello.")]
    assert transcripts.to_text(plain) == "Hello.\n" and "<v" not in transcripts.to_vtt(plain)
    assert to_rttm("rec", [(0.5, 2.0, "Maria Lopez")]) == "SPEAKER rec 1 0.500 1.500 <NA> <NA> Maria_Lopez <NA> <NA>\n"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ((None, None, None), ("off", None, None)),
        (("auto", None, None), ("auto", None, None)),
        (("3", None, None), (3, None, None)),
        ((2, None, None), (2, None, None)),
        ((None, "2", "4"), ("auto", 2, 4)),  # bounds alone ask for an estimate
    ],
)
def test_speakers_option(given, expected):
    assert check_speakers(*given) == expected


@pytest.mark.parametrize("given", [("many", None, None), ("0", None, None), (None, "4", "2"), (None, None, "99")])
def test_bad_speakers_option_is_refused_with_its_code(given):
    with pytest.raises(DomainError) as err:
        check_speakers(*given)
    assert err.value.code == "invalid_speakers"
