"""Decoding the project's own speech fixtures with PyAV: lengths, limits and the codes of bad files."""

from pathlib import Path

import pytest

from voxledger.transcriber.adapters.audio import SAMPLE_RATE, AudioError, decode

AUDIO = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "audio"


def test_a_recording_decodes_to_16k_mono_and_resumes_from_an_offset():
    samples, duration_s = decode(AUDIO / "short_meeting.ogg")
    assert 8.5 < duration_s < 9.5 and len(samples) == round(duration_s * SAMPLE_RATE)
    later, same_duration = decode(AUDIO / "short_meeting.ogg", offset_s=4.0)
    assert same_duration == duration_s and len(later) == len(samples) - 4 * SAMPLE_RATE


@pytest.mark.parametrize(
    ("name", "code"),
    [("truncated.wav", "audio_truncated"), ("not_audio.bin", "audio_undecodable"), ("empty.wav", "audio_empty")],
)
def test_bad_files_fail_with_their_own_code(name, code):
    with pytest.raises(AudioError) as err:
        decode(AUDIO / name)
    assert err.value.code == code


def test_audio_over_the_duration_limit_is_refused():
    with pytest.raises(AudioError) as err:
        decode(AUDIO / "bench_60s.ogg", max_duration_s=30)
    assert err.value.code == "audio_too_long" and "30 s" in err.value.message
    assert decode(AUDIO / "bench_60s.ogg", max_duration_s=90)[1] > 55
