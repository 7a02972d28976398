"""Deepgram's query parameters as a live session's options: what is honoured, what is refused."""

from datetime import UTC, datetime

import pytest

from voxledger.contracts.events import Segment, Word
from voxledger.contracts.live import LiveInterim, LiveTurn
from voxledger.gateway.domain import deepgram
from voxledger.gateway.domain.errors import Malformed, Unacceptable
from voxledger.gateway.domain.models import ModelCatalog

CATALOG = ModelCatalog({"tiny.en": None, "small": None})


def test_deepgram_names_mean_the_default_model_and_a_served_name_is_itself():
    options = deepgram.live_options(CATALOG, {"model": "nova-3", "language": "en-US", "encoding": "linear16"})
    assert options.model is None and options.language == "en" and options.sample_rate == 16000
    assert deepgram.live_options(CATALOG, {"model": "small", "language": "multi"}).model == "small"
    with pytest.raises(Unacceptable) as unknown:
        deepgram.live_options(CATALOG, {"model": "gpt-5"})
    assert unknown.value.code == "unknown_model"


def test_turn_options_follow_deepgrams_defaults():
    default = deepgram.live_options(CATALOG, {})
    assert default.endpointing_s == 0.1 and default.utterance_end_s is None
    assert not default.interim_results and not default.vad_events
    asked = {"endpointing": "300", "utterance_end_ms": "1500", "interim_results": "true", "vad_events": "true"}
    options = deepgram.live_options(CATALOG, asked)
    assert options.endpointing_s == 0.3 and options.utterance_end_s == 1.5
    assert options.interim_results and options.vad_events
    assert deepgram.live_options(CATALOG, {"endpointing": "false"}).endpointing_s is None


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"encoding": "opus"}, "unsupported_encoding"),
        ({"channels": "2"}, "unsupported_option"),
        ({"sample_rate": "11025"}, "unsupported_sample_rate"),
        ({"diarize": "true"}, "unsupported_option"),
        ({"callback": "https://example.com/hook"}, "unsupported_option"),
        ({"utterance_end_ms": "500"}, "invalid_field"),
        ({"interim_results": "maybe"}, "invalid_field"),
        ({"language": "e1"}, "invalid_language"),
    ],
)
def test_what_cannot_be_honoured_is_refused(params, code):
    with pytest.raises(Malformed) as refused:
        deepgram.live_options(CATALOG, params)
    assert refused.value.code == code


def test_messages_are_deepgrams():
    options = deepgram.live_options(CATALOG, {"interim_results": "true", "vad_events": "true"})
    messages = deepgram.DeepgramMessages(options, "tiny.en", created=datetime(2026, 1, 1, tzinfo=UTC))
    messages.request_id = "s1"
    words = [Word(1.0, 1.4, " Hello,", 0.9), Word(1.4, 2.0, " there.", 0.7)]
    segment = Segment(
        index=0, start=1.0, end=2.0, text="Hello, there.", avg_logprob=-0.1, no_speech_prob=0, words=words
    )
    (final,) = messages.final(segment, speech_final=True)
    assert final["is_final"] and final["speech_final"] and final["duration"] == 1.0
    alternative = final["channel"]["alternatives"][0]  # type: ignore[index]
    assert alternative["words"][0] == {
        "word": "hello",
        "start": 1.0,
        "end": 1.4,
        "confidence": 0.9,
        "punctuated_word": "Hello,",
    }
    assert (
        messages.interim(LiveInterim(index=1, start=2.0, end=2.5, text="and", confidence=0.5))[0]["is_final"] is False
    )
    started = messages.turn(LiveTurn(kind="speech_started", at=1.0, after_index=0))
    assert started == [{"type": "SpeechStarted", "channel": [0], "timestamp": 1.0}]
    assert messages.turn(LiveTurn(kind="utterance_end", at=2.0, after_index=1)) == []  # utterance_end_ms not asked
