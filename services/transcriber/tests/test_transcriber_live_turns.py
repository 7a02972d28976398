"""Turn events from the streaming policy's steps: speech started, utterance end, a final that ends a turn."""

from voxledger.contracts.events import Segment
from voxledger.contracts.live import LiveInterim
from voxledger.transcriber.live.domain.streaming import Step
from voxledger.transcriber.live.domain.turns import TurnConfig, TurnTracker


def final(index: int, start: float, end: float) -> Segment:
    return Segment(index=index, start=start, end=end, text="words.", avg_logprob=0.0, no_speech_prob=0.0)


def interim(index: int, start: float, end: float) -> LiveInterim:
    return LiveInterim(index=index, start=start, end=end, text="more", confidence=0.9)


def test_speech_starts_at_the_first_word_and_ends_after_a_pause():
    turns = TurnTracker(TurnConfig(endpointing_s=0.3, utterance_end_s=1.0))
    assert turns.observe(Step(finals=[], interim=None), 0, 1.0).events == []
    started = turns.observe(Step(finals=[], interim=interim(0, 1.2, 1.8)), 0, 2.0)
    assert [(e.kind, e.at, e.after_index) for e in started.events] == [("speech_started", 1.2, 0)]
    # The final came while the next words were pending: it does not end the turn, nor does the utterance end.
    going_on = turns.observe(Step(finals=[final(0, 1.2, 2.4)], interim=interim(1, 2.6, 2.9)), 0, 3.0)
    assert not going_on.speech_final and going_on.events == []
    # The last final with silence after it ends the turn; the utterance ends once the silence reached 1 s.
    ended = turns.observe(Step(finals=[final(1, 2.6, 3.1)], interim=None), 1, 3.5)
    assert ended.speech_final and ended.events == []
    silence = turns.observe(Step(finals=[], interim=None), 2, 4.2)
    assert [(e.kind, e.at, e.after_index) for e in silence.events] == [("utterance_end", 3.1, 2)]
    # Speech again: a new start, once.
    again = turns.observe(Step(finals=[], interim=interim(2, 5.0, 5.4)), 2, 5.5)
    assert [e.kind for e in again.events] == ["speech_started"]
    assert turns.observe(Step(finals=[], interim=interim(2, 5.0, 6.0)), 2, 6.0).events == []


def test_a_final_followed_by_too_little_silence_does_not_end_the_turn_but_the_session_end_does():
    turns = TurnTracker(TurnConfig(endpointing_s=0.5, utterance_end_s=1.0))
    short = turns.observe(Step(finals=[final(0, 0.0, 1.0)], interim=None), 0, 1.2)
    assert not short.speech_final
    assert [e.kind for e in short.events] == ["speech_started"]
    last = turns.observe(Step(finals=[final(1, 1.3, 1.9)], interim=None), 1, 2.0, ended=True)
    assert last.speech_final
    assert [(e.kind, e.at, e.after_index) for e in last.events] == [("utterance_end", 1.9, 2)]


def test_endpointing_off_never_flags_a_final():
    turns = TurnTracker(TurnConfig(endpointing_s=None))
    assert not turns.observe(Step(finals=[final(0, 0.0, 1.0)], interim=None), 0, 5.0, ended=True).speech_final


def test_a_pause_between_words_ends_the_turn_and_the_utterance_while_speech_goes_on():
    """Continuous audio with pauses: the next words are already heard when the final comes."""
    turns = TurnTracker(TurnConfig(endpointing_s=0.3, utterance_end_s=1.0))
    turns.observe(Step(finals=[], interim=interim(0, 0.5, 2.4)), 0, 2.6)
    short_pause = turns.observe(Step(finals=[final(0, 0.5, 2.4)], interim=interim(1, 2.8, 3.2)), 0, 3.4)
    assert short_pause.speech_final and short_pause.events == []  # 0.4 s: the turn ends, not the utterance
    long_pause = turns.observe(Step(finals=[final(1, 2.8, 3.2)], interim=interim(2, 4.5, 5.0)), 1, 5.2)
    assert long_pause.speech_final
    assert [(e.kind, e.at, e.after_index) for e in long_pause.events] == [
        ("utterance_end", 3.2, 2),
        ("speech_started", 4.5, 2),
    ]
