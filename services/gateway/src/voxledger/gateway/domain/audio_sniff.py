"""Recognise audio containers by their first bytes, so obvious non-audio is refused at upload.

The transcriber still decodes for real; this only turns away what is plainly not audio.
"""

SIGNATURES: list[tuple[int, bytes, str]] = [
    (0, b"RIFF", "audio/wav"),  # with WAVE at offset 8, checked below
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"ID3", "audio/mpeg"),
    (4, b"ftyp", "audio/mp4"),
    (0, b"\x1a\x45\xdf\xa3", "audio/webm"),
    (0, b"#!AMR", "audio/amr"),
    (0, b"FORM", "audio/aiff"),
    (0, b"caff", "audio/x-caf"),
    (0, b"0&\xb2u\x8ef\xcf\x11", "audio/x-ms-wma"),
]


def sniff_audio(head: bytes) -> str | None:
    """The media type the leading bytes announce, or None if they are not a known audio container."""
    for offset, magic, media_type in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            if magic == b"RIFF" and head[8:12] not in (b"WAVE", b"AVI "):
                return None
            return media_type
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio/mpeg"  # MPEG audio frame sync (MP3 without an ID3 tag), or ADTS AAC
    return None
