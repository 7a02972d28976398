"""Analytics: speech/silence, words per minute against the scripted meeting, fillers, monologues, speakers."""

import pytest

from voxledger.contracts.insights import TranscriptLine
from voxledger.postproc.domain.analytics import analyze
from voxledger.postproc.domain.refinement import refine


def line(i: int, start: float, end: float, text: str, speaker: str | None = None) -> TranscriptLine:
    return TranscriptLine(index=i, start=start, end=end, text=text, speaker=speaker)


def test_wpm_on_the_whisper_transcript_is_within_5_percent_of_the_hand_count(
    meeting_lines, meeting_labels, meeting_timing
):
    truth = meeting_labels["wpm"]
    # the label is what the synthesis timing says: script words over the voiced time
    assert truth["word_count"] == sum(len(s["text"].split()) for s in meeting_timing["sentences"])
    voiced = sum(s["end"] - s["start"] for s in meeting_timing["sentences"])
    assert truth["speech_s"] == pytest.approx(voiced, abs=1e-3)
    assert truth["value"] == pytest.approx(truth["word_count"] / (truth["speech_s"] / 60), abs=0.01)

    result = analyze(meeting_lines, meeting_timing["duration_s"])
    error = result.wpm / truth["value"] - 1
    assert abs(error) <= truth["tolerance"], f"wpm {result.wpm} vs {truth['value']} ({error:+.1%})"


def test_meeting_questions_and_silence(meeting_lines, meeting_labels, meeting_timing):
    result = analyze(meeting_lines, meeting_timing["duration_s"])
    assert result.question_count == meeting_labels["question_count"]
    # the lead-in, tail and two topic breaks alone are 13 s of silence
    assert result.silence_s >= 13.0
    assert result.duration_s == pytest.approx(meeting_timing["duration_s"], abs=1e-3)


def test_speech_and_silence_add_up_to_the_duration(meeting_lines):
    for duration in (200.0, 183.771):
        result = analyze(meeting_lines, duration)
        assert result.speech_s + result.silence_s == pytest.approx(result.duration_s, abs=2e-3)


def test_overlapping_segments_count_once():
    lines = [line(0, 0.0, 10.0, "one two three", "A"), line(1, 5.0, 12.0, "four five", "B")]
    result = analyze(lines, 20.0)
    assert result.speech_s == pytest.approx(12.0)
    assert result.silence_s == pytest.approx(8.0)
    assert result.word_count == 5
    assert result.wpm == pytest.approx(5 / 12 * 60, abs=0.01)


def test_a_duration_shorter_than_the_transcript_is_extended_to_it():
    result = analyze([line(0, 1.0, 4.0, "hello there")], 0.0)
    assert result.duration_s == pytest.approx(4.0)
    assert result.silence_s == pytest.approx(1.0)


def test_pace_windows_cover_the_recording_and_every_word(meeting_lines, meeting_timing):
    result = analyze(meeting_lines, meeting_timing["duration_s"])
    assert [w.start for w in result.pace] == [0.0, 60.0, 120.0, 180.0]
    assert result.pace[-1].end == pytest.approx(meeting_timing["duration_s"], abs=1e-3)
    assert sum(w.words for w in result.pace) == result.word_count
    assert all(100 < w.wpm < 260 for w in result.pace)


def test_pace_follows_a_change_of_speed():
    slow = [line(i, i * 6.0, i * 6.0 + 5.0, " ".join(["word"] * 10)) for i in range(10)]  # 120 wpm
    fast = [line(10 + i, 60 + i * 6.0, 60 + i * 6.0 + 5.0, " ".join(["word"] * 15)) for i in range(10)]  # 180
    result = analyze(slow + fast, 120.0)
    assert [round(w.wpm) for w in result.pace] == [120, 180]
    assert [w.words for w in result.pace] == [100, 150]


def test_fillers_counted_with_the_same_detector_refinement_removes_them_with():
    lines = [
        line(0, 0.0, 5.0, "Um, I think, uh, we should ship it."),
        line(1, 5.0, 10.0, "It was, like, really fast, you know."),
        line(2, 10.0, 15.0, "I like pizza and you know the answer."),
        line(3, 15.0, 20.0, "Hmm. Erm, okay."),
    ]
    result = analyze(lines, 20.0)
    assert result.fillers == {"um": 1, "uh": 1, "erm": 1, "hmm": 1, "like": 1, "you know": 1}
    assert result.filler_count == 6 == refine(lines).fillers_removed
    assert result.fillers_per_min == pytest.approx(6 / (20 / 60), abs=0.01)


def test_longest_monologue_without_speakers_breaks_at_two_second_gaps():
    lines = [
        line(0, 0.0, 5.0, "a"),
        line(1, 6.0, 10.0, "b"),  # 1 s gap: same stretch (0-10)
        line(2, 12.5, 14.0, "c"),  # 2.5 s gap: new stretch
        line(3, 20.0, 30.0, "d"),
        line(4, 31.9, 33.0, "e"),  # 1.9 s gap: same stretch (20-33)
    ]
    result = analyze(lines, 40.0)
    assert result.longest_monologue_s == pytest.approx(13.0)
    assert result.longest_monologue_start == pytest.approx(20.0)
    assert result.speakers == []


def runs(sentences: list[dict]) -> list[dict]:
    """Consecutive sentences by one speaker, whatever the pause between them."""
    out: list[dict] = []
    for s in sentences:
        if out and out[-1]["speaker"] == s["speaker"]:
            out[-1]["end"] = s["end"]
        else:
            out.append({"speaker": s["speaker"], "start": s["start"], "end": s["end"]})
    return out


def test_longest_monologue_with_speakers_is_the_longest_turn(scripted_lines, meeting_timing):
    result = analyze(scripted_lines, meeting_timing["duration_s"])
    longest = max(runs(meeting_timing["sentences"]), key=lambda t: t["end"] - t["start"])
    assert result.longest_monologue_s == pytest.approx(longest["end"] - longest["start"], abs=1e-3)
    assert result.longest_monologue_start == pytest.approx(longest["start"], abs=1e-3)


def test_talk_time_turns_and_words_per_speaker(scripted_lines, meeting_timing):
    result = analyze(scripted_lines, meeting_timing["duration_s"])
    expected = {}
    for s in meeting_timing["sentences"]:
        stats = expected.setdefault(s["speaker"], {"talk": 0.0, "words": 0, "turns": 0})
        stats["talk"] += s["end"] - s["start"]
        stats["words"] += len(s["text"].split())
    for turn in runs(meeting_timing["sentences"]):
        expected[turn["speaker"]]["turns"] += 1
    assert {s.speaker for s in result.speakers} == {"Sarah", "Tom", "Maria"}
    for stats in result.speakers:
        assert stats.talk_time_s == pytest.approx(expected[stats.speaker]["talk"], abs=0.01)
        assert stats.turns == expected[stats.speaker]["turns"]
        assert stats.words == expected[stats.speaker]["words"]
    assert [s.talk_time_s for s in result.speakers] == sorted((s.talk_time_s for s in result.speakers), reverse=True)
    # with exact sentence times the voiced wpm is the hand count itself
    assert result.wpm == pytest.approx(meeting_timing["wpm_voiced"], abs=0.05)


def test_questions_with_and_without_punctuation():
    punctuated = [line(0, 0, 5, "Is it ready? It is. Why not? Great!")]
    assert analyze(punctuated, 5.0).question_count == 2
    bare = [
        line(0, 0, 2, "what time is the meeting"),
        line(1, 2, 4, "it starts at noon"),
        line(2, 4, 6, "can you come"),
    ]
    assert analyze(bare, 6.0).question_count == 2
