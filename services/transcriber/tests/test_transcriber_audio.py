"""Decoding the project's own speech fixtures with PyAV: lengths, limits and the codes of bad files."""

import struct
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


def _damaged_copy(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_damaged_ogg_page_is_corrupt_not_a_quiet_gap(tmp_path):
    """FFmpeg skips a page that fails its checksum; the job must fail instead of completing with a hole."""
    data = bytearray((AUDIO / "short_meeting.ogg").read_bytes())
    data[15_000:15_040] = bytes(40)
    with pytest.raises(AudioError) as err:
        decode(_damaged_copy(tmp_path, "damaged.ogg", bytes(data)))
    assert err.value.code == "audio_corrupt" and "checksum" in err.value.message


@pytest.mark.parametrize("cut_at", [12_000, 9908])  # inside a page, and exactly at a page boundary
def test_an_ogg_cut_off_in_transfer_is_truncated(tmp_path, cut_at):
    data = (AUDIO / "short_meeting.ogg").read_bytes()
    assert data[9908:9912] == b"OggS", "a page starts here"
    with pytest.raises(AudioError) as err:
        decode(_damaged_copy(tmp_path, "cut.ogg", data[:cut_at]))
    assert err.value.code == "audio_truncated"


def test_a_header_declaring_days_of_audio_is_refused_before_decoding(tmp_path):
    """100 kB of samples declared at 1 Hz: 27 hours. Decoding would upsample it to gigabytes."""
    samples = bytes(100_000)
    fmt = struct.pack("<HHIIHH", 1, 1, 1, 2, 2, 16)  # PCM, mono, 1 Hz, 2 bytes per second, 16 bit
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(samples)) + samples
    path = _damaged_copy(tmp_path, "days.wav", b"RIFF" + struct.pack("<I", len(body)) + body)
    with pytest.raises(AudioError) as err:
        decode(path, max_duration_s=14_400)
    assert err.value.code == "audio_too_long" and "50000 s" in err.value.message
