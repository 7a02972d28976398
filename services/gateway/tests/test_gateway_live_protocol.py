"""The live socket's protocol: parsing client messages, checking frames, pacing."""

import pytest

from voxledger.contracts.events import Segment, Word
from voxledger.gateway.domain import live_protocol as proto


def code_of(text: str) -> str:
    with pytest.raises(proto.ProtocolError) as err:
        proto.parse(text)
    return err.value.code


def test_client_messages_parse_with_defaults():
    assert proto.parse('{"type":"start"}') == proto.Start(sample_rate=16000, encoding="pcm_s16le")
    start = proto.parse('{"type":"start","sample_rate":48000,"encoding":"f32le","language":"de","model":"base"}')
    assert start == proto.Start(sample_rate=48000, encoding="f32le", language="de", model="base")
    assert proto.parse('{"type":"auth","api_key":"vl_x"}') == proto.Auth(api_key="vl_x")
    resume = proto.parse('{"type":"resume","session_id":"0190f0c0-0000-7000-8000-000000000001","after_index":3}')
    assert resume.after_index == 3
    assert isinstance(proto.parse('{"type":"stop"}'), proto.Stop)


def test_bad_client_messages_get_stable_codes():
    assert code_of("{nope") == "malformed_message"
    assert code_of('{"type":"dance"}') == "invalid_message"
    assert code_of('{"type":"start","encoding":"mp3"}') == "invalid_message"
    assert code_of('{"type":"start","sample_rate":12345}') == "unsupported_sample_rate"
    assert code_of('{"type":"start","language":"english!"}') == "invalid_language"
    assert code_of('{"type":"resume","session_id":"../etc"}') == "session_not_found"


def test_frames_must_hold_whole_samples():
    proto.check_frame(b"\x00\x00" * 10, "pcm_s16le")
    proto.check_frame(b"\x00" * 8, "f32le")
    for data, encoding in ((b"\x00" * 3, "pcm_s16le"), (b"\x00" * 6, "f32le"), (b"", "pcm_s16le")):
        with pytest.raises(proto.ProtocolError) as err:
            proto.check_frame(data, encoding)
        assert err.value.code == "malformed_audio_frame"
    assert proto.seconds(32000, "pcm_s16le", 16000) == 1.0


def test_the_pacer_pauses_only_audio_ahead_of_real_time_beyond_the_allowance():
    pacer = proto.Pacer(started_at=100.0, allowance_s=2.0)
    assert pacer.add(1.0, now=100.0) == 0.0
    assert pacer.add(1.0, now=100.1) == 0.0
    assert pacer.add(1.0, now=100.2) == pytest.approx(0.8)
    assert pacer.add(1.0, now=103.0) == 0.0


def test_a_final_carries_its_confidence():
    segment = Segment(
        index=2,
        start=1.0,
        end=2.0,
        text="hi there",
        avg_logprob=-0.2,
        no_speech_prob=0.0,
        words=[Word(1.0, 1.5, " hi", 0.8), Word(1.5, 2.0, " there", 0.6)],
    )
    assert proto.final(segment) == {
        "type": "final",
        "index": 2,
        "start": 1.0,
        "end": 2.0,
        "text": "hi there",
        "confidence": 0.7,
        "speech_final": False,
    }
    assert proto.final(segment, speech_final=True)["speech_final"] is True
