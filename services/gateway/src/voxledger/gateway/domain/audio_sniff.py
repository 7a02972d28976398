"""Recognise audio containers by their first bytes, so obvious non-audio is refused at upload.

The transcriber still decodes for real; this only turns away what is plainly not audio.
"""

SIGNATURES: list[tuple[int, bytes, str]] = [
    (0, b"RIFF", "audio/wav"),  # only with WAVE at offset 8
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"ID3", "audio/mpeg"),
    (4, b"ftyp", "audio/mp4"),  # only with an audio or audio-capable brand
    (0, b"\x1a\x45\xdf\xa3", "audio/webm"),
    (0, b"#!AMR", "audio/amr"),
    (0, b"FORM", "audio/aiff"),  # only with AIFF or AIFC at offset 8
    (0, b"caff", "audio/x-caf"),
    (0, b"0&\xb2u\x8ef\xcf\x11", "audio/x-ms-wma"),
]


def sniff_audio(head: bytes) -> str | None:
    """The media type the leading bytes announce, or None if they are not a known audio container."""
    for offset, magic, media_type in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return media_type if _subtype_ok(magic, head) else None
    if _mpeg_frame_sync(head):
        return "audio/mpeg"  # MP3 without an ID3 tag, or ADTS AAC
    return None


# ISO-BMFF brands that carry audio (M4A, MP4, 3GP, QuickTime); image brands such as heic/avif do not.
AUDIO_BRANDS = (b"M4A ", b"M4B ", b"mp41", b"mp42", b"isom", b"iso2", b"3gp4", b"3gp5", b"3g2a", b"qt  ", b"dash")


def _subtype_ok(magic: bytes, head: bytes) -> bool:
    if magic == b"RIFF":
        return head[8:12] == b"WAVE"
    if magic == b"FORM":
        return head[8:12] in (b"AIFF", b"AIFC")
    if magic == b"ftyp":
        return head[8:12] in AUDIO_BRANDS
    return True


def _mpeg_frame_sync(head: bytes) -> bool:
    """11 sync bits, then MPEG layer II/III or ADTS. Layer I is left out: its header FF FE is the UTF-16 BOM."""
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0b11, (head[1] >> 1) & 0b11
    is_adts = head[1] & 0xF6 == 0xF0
    bitrate_index = head[2] >> 4
    return is_adts or (version != 0b01 and layer in (0b01, 0b10) and bitrate_index != 0b1111)
