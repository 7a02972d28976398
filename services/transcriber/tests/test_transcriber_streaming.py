"""The streaming policy (LocalAgreement-2 over a sliding buffer) on given hypotheses, and on the real model."""

from pathlib import Path

import numpy as np

from tests.wer import STREAMING_WER, assert_wer
from voxledger.contracts.events import TranscriptionOptions, Word
from voxledger.transcriber.adapters.audio import decode
from voxledger.transcriber.adapters.model import ModelCache, hypothesize
from voxledger.transcriber.live.domain.streaming import SAMPLE_RATE, PolicyConfig, StreamingPolicy

FIXTURES = Path(__file__).parents[3] / "tests" / "fixtures" / "audio"
SENTENCES = PolicyConfig(max_pending_s=100.0)  # finals at sentence ends only


def words(*spec: tuple[float, float, str]) -> list[Word]:
    return [Word(start, end, text, 0.9) for start, end, text in spec]


def fed(policy: StreamingPolicy, seconds: float) -> StreamingPolicy:
    policy.add_audio(np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32))
    return policy


def test_words_two_hypotheses_agree_on_are_confirmed_and_a_sentence_end_makes_a_final():
    policy = fed(StreamingPolicy(SENTENCES), 1.0)
    first = policy.update(words((0.0, 0.4, " Good"), (0.4, 0.9, " morning")))
    assert first.finals == [] and first.interim.text == "Good morning" and first.interim.index == 0
    fed(policy, 1.0)
    second = policy.update(words((0.0, 0.4, " Good"), (0.4, 0.9, " morning."), (1.0, 1.6, " Today")))
    assert [f.text for f in second.finals] == ["Good morning."]
    assert second.finals[0].index == 0 and second.finals[0].end == 0.9
    assert second.interim.text == "Today" and second.interim.index == 1
    assert policy.buffer_start_s == 0.9 and len(policy.buffer) == int(1.1 * SAMPLE_RATE)


def test_later_hypotheses_are_read_in_session_time_after_the_cut():
    policy = fed(StreamingPolicy(SENTENCES, first_index=4, offset_s=10.0), 1.0)
    policy.update(words((0.1, 0.5, " Next"), (0.5, 0.9, " one.")))
    fed(policy, 1.0)
    step = policy.update(words((0.1, 0.5, " Next"), (0.5, 0.9, " one.")))
    assert [(f.index, f.start, f.end) for f in step.finals] == [(4, 10.1, 10.9)]


def test_words_that_disagree_stay_interim_until_the_session_ends():
    policy = fed(StreamingPolicy(SENTENCES), 1.0)
    policy.update(words((0.0, 0.5, " review")))
    fed(policy, 1.0)
    step = policy.update(words((0.0, 0.5, " renew"), (0.5, 1.0, " it")))
    assert step.finals == [] and step.interim.text == "renew it"
    flushed = policy.update(words((0.0, 0.5, " review"), (0.5, 1.0, " it")), flush=True)
    assert [f.text for f in flushed.finals] == ["review it"] and flushed.interim is None


def test_confirmed_words_still_in_the_buffer_are_not_repeated():
    policy = fed(StreamingPolicy(SENTENCES), 1.0)
    policy.update(words((0.0, 0.5, " one"), (0.5, 1.0, " two")))
    fed(policy, 1.0)
    policy.update(words((0.0, 0.5, " one"), (0.5, 1.0, " two"), (1.0, 1.5, " three")))
    fed(policy, 1.0)
    again = words((0.0, 0.5, " One,"), (0.5, 1.0, " two"), (1.0, 1.5, " three"), (1.5, 2.0, " four."))
    assert policy.update(again).interim.text == "one two three four."
    fed(policy, 1.0)
    assert [f.text for f in policy.update(again).finals] == ["one two three four."]


def test_confirmed_words_that_wait_too_long_for_a_sentence_end_become_a_final_and_stay_as_context():
    policy = fed(StreamingPolicy(PolicyConfig(max_pending_s=1.0)), 1.0)
    policy.update(words((0.0, 0.4, " We"), (0.4, 0.8, " will")))
    fed(policy, 1.0)
    step = policy.update(words((0.0, 0.4, " We"), (0.4, 0.8, " will"), (1.2, 1.8, " review")))
    assert [(f.index, f.text) for f in step.finals] == [(0, "We will")]
    assert policy.buffer_start_s == 0.0, "the audio of a final mid-sentence stays in the buffer"
    fed(policy, 1.0)
    sentence = words((0.0, 0.4, " We"), (0.4, 0.8, " will"), (1.2, 1.8, " review"), (1.9, 2.5, " it."))
    assert [(f.index, f.text) for f in policy.update(sentence).finals] == [(1, "review")]
    assert policy.buffer_start_s == 0.0
    fed(policy, 1.0)
    assert [(f.index, f.text) for f in policy.update(sentence).finals] == [(2, "it.")]
    assert policy.buffer_start_s == 2.5, "a sentence end cuts the buffer"


def test_a_buffer_without_words_is_trimmed_and_a_long_one_is_finalized_mid_sentence():
    policy = fed(StreamingPolicy(PolicyConfig(max_buffer_s=5.0, silence_keep_s=1.0, max_pending_s=100.0)), 3.0)
    assert policy.update([]).interim is None
    assert policy.buffer_start_s == 2.0
    fed(policy, 4.0)
    policy.update(words((0.5, 1.0, " and"), (1.0, 1.5, " so")))
    fed(policy, 1.0)
    step = policy.update(words((0.5, 1.0, " and"), (1.0, 1.5, " so"), (1.5, 2.0, " on")))
    assert [(f.text, f.start) for f in step.finals] == [("and so", 2.5)]


def test_streaming_the_real_model_over_a_fixture_reads_like_the_batch():
    audio, _ = decode(FIXTURES / "short_meeting.wav")
    model = ModelCache("cpu", "int8", 0, False).get("tiny.en")
    options = TranscriptionOptions(language="en")
    policy, finals = StreamingPolicy(PolicyConfig()), []
    for start in range(0, len(audio), SAMPLE_RATE // 10):
        policy.add_audio(audio[start : start + SAMPLE_RATE // 10])
        if policy.due():
            finals += policy.update(hypothesize(model, policy.buffer, options, 5)).finals
    finals += policy.update(hypothesize(model, policy.buffer, options, 5), flush=True).finals
    assert [f.index for f in finals] == list(range(len(finals)))
    assert [f.start for f in finals] == sorted(f.start for f in finals)
    # The words depend on the processor's int8 code path: bound the WER, never require exact words.
    assert_wer((FIXTURES / "short_meeting.txt").read_text(), " ".join(f.text for f in finals), STREAMING_WER)
