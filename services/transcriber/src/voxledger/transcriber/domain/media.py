"""Which audio the transcriber decodes, decided before FFmpeg sees a byte. Pure.

FFmpeg probes by content and would happily open a playlist (HLS, concat, SDP) that makes it read other
files or the network. So the container is recognised here from its first bytes, against an allow-list,
and FFmpeg is then told which demuxer to use; the codec and the stream's parameters are checked too.
"""

import struct

import msgspec


class AudioError(Exception):
    """A permanent decode failure: `code` is stable, `message` (the detail) goes to the logs."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class Container(msgspec.Struct, frozen=True):
    name: str  # what the logs say
    demuxer: str  # the FFmpeg demuxer forced for it, whatever FFmpeg's own probe would pick


WAV = Container("wav", "wav")
# (offset, magic, container); a signature at offset 0 unless stated.
SIGNATURES: tuple[tuple[int, bytes, Container], ...] = (
    (0, b"OggS", Container("ogg", "ogg")),
    (0, b"fLaC", Container("flac", "flac")),
    (0, b"ID3", Container("mp3", "mp3")),
    (4, b"ftyp", Container("mp4", "mov")),  # m4a and mp4; external data references stay off (mov's default)
    (0, b"\x1a\x45\xdf\xa3", Container("webm", "matroska")),
    (0, b"#!AMR", Container("amr", "amr")),
    (0, b"caff", Container("caf", "caf")),
    (0, b"0&\xb2u\x8ef\xcf\x11", Container("asf", "asf")),  # wma
)
# ISO-BMFF brands that carry audio (M4A, MP4, 3GP, QuickTime); image brands such as heic/avif do not.
AUDIO_BRANDS = (b"M4A ", b"M4B ", b"mp41", b"mp42", b"isom", b"iso2", b"3gp4", b"3gp5", b"3g2a", b"qt  ", b"dash")

# Decoders by name (PyAV reports the decoder: mp3 decodes as mp3float).
CODECS = frozenset(
    {
        *(
            f"pcm_{kind}"
            for kind in ("s16le", "s16be", "s24le", "s24be", "s32le", "s32be", "u8", "s8", "alaw", "mulaw")
        ),
        *(f"pcm_{kind}" for kind in ("f32le", "f32be", "f64le", "f64be")),
        "adpcm_ms",
        "adpcm_ima_wav",
        "adpcm_ima_qt",
        "gsm_ms",
        "flac",
        "alac",
        "vorbis",
        "opus",
        "libopus",
        "mp3",
        "mp3float",
        "mp2",
        "mp2float",
        "aac",
        "aac_latm",
        "amrnb",
        "amrwb",
        "wmav1",
        "wmav2",
    }
)
MAX_SAMPLE_RATE = 384_000  # the highest rate studio audio uses
MAX_CHANNELS = 64
HEAD_BYTES = 64


def container_of(head: bytes) -> Container:
    """The container the leading bytes announce; anything not on the allow-list is refused."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return Container("aiff", "aiff")
    for offset, magic, container in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            if magic == b"ftyp" and head[8:12] not in AUDIO_BRANDS:
                break
            return container
    if _mpeg_frame_sync(head):
        return Container("adts", "aac") if head[1] & 0xF6 == 0xF0 else Container("mp3", "mp3")
    raise AudioError("unsupported_audio_format", f"not an allowed audio container (starts with {head[:8]!r})")


def _mpeg_frame_sync(head: bytes) -> bool:
    """11 sync bits, then MPEG layer II/III or ADTS. Layer I is left out: its header FF FE is the UTF-16 BOM."""
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0b11, (head[1] >> 1) & 0b11
    is_adts = head[1] & 0xF6 == 0xF0
    return is_adts or (version != 0b01 and layer in (0b01, 0b10) and head[2] >> 4 != 0b1111)


def wav_format(head: bytes) -> tuple[int, int] | None:
    """(channels, sample rate) of a WAV whose `fmt ` chunk comes first, as its header declares them.

    Read here because FFmpeg opens absurd values quietly (4096 channels read as 0)."""
    if len(head) < 28 or head[12:16] != b"fmt ":
        return None
    channels, sample_rate = struct.unpack_from("<HI", head, 22)
    return channels, sample_rate


def check_parameters(sample_rate: int, channels: int) -> None:
    """A stream whose parameters no real recording has is refused before anything is decoded."""
    if not 0 < sample_rate <= MAX_SAMPLE_RATE or not 0 < channels <= MAX_CHANNELS:
        raise AudioError(
            "unsupported_audio_parameters",
            f"{channels} channels at {sample_rate} Hz; at most {MAX_CHANNELS} channels and {MAX_SAMPLE_RATE} Hz",
        )


def check_codec(codec: str) -> None:
    if codec not in CODECS:
        raise AudioError("unsupported_audio_codec", f"the audio codec {codec!r} is not on the allow-list")
