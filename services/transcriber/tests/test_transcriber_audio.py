"""Decoding the project's own speech fixtures with PyAV: lengths, limits and the codes of bad files."""

import struct
from pathlib import Path

import av
import numpy as np
import pytest

from voxledger.transcriber.adapters.audio import SAMPLE_RATE, AudioError, decode
from voxledger.transcriber.domain.media import container_of

AUDIO = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "audio"


def test_a_recording_decodes_to_16k_mono_and_resumes_from_an_offset():
    samples, duration_s = decode(AUDIO / "short_meeting.ogg")
    assert 8.5 < duration_s < 9.5 and len(samples) == round(duration_s * SAMPLE_RATE)
    later, same_duration = decode(AUDIO / "short_meeting.ogg", offset_s=4.0)
    assert same_duration == duration_s and len(later) == len(samples) - 4 * SAMPLE_RATE


@pytest.mark.parametrize(
    ("name", "code"),
    [("truncated.wav", "audio_truncated"), ("not_audio.bin", "unsupported_audio_format"), ("empty.wav", "audio_empty")],
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


def _wav(tmp_path: Path, name: str, *, rate: int, channels: int, data: bytes = bytes(3200)) -> Path:
    """A PCM WAV whose header declares `rate` and `channels`, consistent in its lengths."""
    block = 2 * channels
    fmt = struct.pack("<HHIIHH", 1, channels, rate, (rate * block) % 2**32, block % 2**16, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return _damaged_copy(tmp_path, name, b"RIFF" + struct.pack("<I", len(body)) + body)


@pytest.mark.parametrize(("rate", "channels"), [(1_000_000_000, 1), (16_000, 4096), (16_000, 0), (0, 1)])
def test_absurd_declared_parameters_are_refused_with_their_own_code(tmp_path, rate, channels):
    with pytest.raises(AudioError) as err:
        decode(_wav(tmp_path, "absurd.wav", rate=rate, channels=channels))
    assert err.value.code == "unsupported_audio_parameters"


PLAYLISTS = {
    "hls.m3u8": "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://169.254.169.254/latest/a.ts\n#EXT-X-ENDLIST\n",
    "list.ffconcat": "ffconcat version 1.0\nfile '/etc/passwd'\n",
    "stream.sdp": "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 5004 RTP/AVP 0\n",
    "page.wav": "<html><body>not audio</body></html>",
}


@pytest.mark.parametrize("name", sorted(PLAYLISTS))
def test_playlists_and_protocol_files_are_refused_before_ffmpeg_probes(tmp_path, name):
    """HLS, concat and SDP would make FFmpeg open other files or the network; the name is never trusted."""
    with pytest.raises(AudioError) as err:
        decode(_damaged_copy(tmp_path, name, PLAYLISTS[name].encode()))
    assert err.value.code == "unsupported_audio_format"


def test_container_recognition_is_by_content_and_an_allow_list():
    assert container_of(b"\xff\xf1\x50\x80").demuxer == "aac"  # ADTS
    assert container_of(b"\xff\xfb\x90\x64").demuxer == "mp3"
    assert container_of(b"\x00\x00\x00\x1cftypM4A \x00").demuxer == "mov"
    for refused in (b"\xff\xfeh\x00i\x00", b"\x00\x00\x00\x1cftypheic", b"GIF89a", b""):
        with pytest.raises(AudioError):
            container_of(refused)


def _encoded(tmp_path: Path, name: str, container: str, codec: str, rate: int) -> Path:
    """One second of a tone, encoded in-process with PyAV (no ffmpeg binary)."""
    path = tmp_path / name
    tone = (np.sin(2 * np.pi * 440 * np.arange(rate) / rate) * 8000).astype(np.int16).reshape(1, -1)
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(tone, format="s16", layout="mono")
        frame.sample_rate = rate
        resampler = av.audio.resampler.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=rate)
        for converted in resampler.resample(frame):
            out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return path


@pytest.mark.parametrize(
    ("name", "container", "codec", "rate"),
    [
        ("a.mp3", "mp3", "mp3", 16000),
        ("a.m4a", "ipod", "aac", 16000),
        ("a.aac", "adts", "aac", 16000),
        ("a.mka", "matroska", "pcm_s16le", 16000),
        ("a.flac", "flac", "flac", 16000),
        ("a.webm", "webm", "libopus", 48000),
        ("a.aiff", "aiff", "pcm_s16be", 22050),
    ],
)
def test_the_allowed_containers_and_codecs_decode(tmp_path, name, container, codec, rate):
    samples, duration_s = decode(_encoded(tmp_path, name, container, codec, rate))
    assert 0.9 < duration_s < 1.2 and np.abs(samples).max() > 0.1


def test_a_concat_list_naming_another_file_is_refused_instead_of_decoding_that_file(tmp_path):
    """FFmpeg's own probe would follow it (safe mode allows a relative name) and decode the other file."""
    (tmp_path / "someone_elses.wav").write_bytes((AUDIO / "short_meeting.wav").read_bytes())
    listing = _damaged_copy(tmp_path, "upload.audio", b"ffconcat version 1.0\nfile 'someone_elses.wav'\n")
    with pytest.raises(AudioError) as err:
        decode(listing)
    assert err.value.code == "unsupported_audio_format"
