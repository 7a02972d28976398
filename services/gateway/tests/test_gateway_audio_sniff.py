"""Audio sniffing: known containers accepted by their first bytes, obvious non-audio refused."""

import pytest

from voxledger.gateway.domain.audio_sniff import sniff_audio


def riff(form: bytes) -> bytes:
    return b"RIFF" + (1234).to_bytes(4, "little") + form + b"fmt " + bytes(16)


@pytest.mark.parametrize(
    "head,expected",
    [
        (riff(b"WAVE"), "audio/wav"),
        (b"OggS\x00\x02" + bytes(20) + b"\x01vorbis", "audio/ogg"),
        (b"fLaC\x00\x00\x00\x22" + bytes(34), "audio/flac"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x23TIT2", "audio/mpeg"),
        (b"\xff\xfb\x90\x64" + bytes(60), "audio/mpeg"),  # MPEG-1 Layer III frame, no ID3 tag
        (b"\xff\xf3\x28\xc4" + bytes(60), "audio/mpeg"),  # MPEG-2 Layer III
        (b"\xff\xf1\x50\x80" + bytes(60), "audio/mpeg"),  # ADTS AAC
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom", "audio/mp4"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", "audio/mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", "audio/webm"),
        (b"#!AMR\n", "audio/amr"),
        (b"FORM\x00\x00\x10\x00AIFFCOMM", "audio/aiff"),
        (b"caff\x00\x01\x00\x00desc", "audio/x-caf"),
        (b"0&\xb2u\x8ef\xcf\x11\xa6\xd9\x00\xaa\x00b\xcel", "audio/x-ms-wma"),
    ],
    ids=[
        "wav",
        "ogg",
        "flac",
        "mp3-id3",
        "mp3-sync",
        "mp2-sync",
        "adts",
        "m4a",
        "mp4",
        "webm",
        "amr",
        "aiff",
        "caf",
        "wma",
    ],
)
def test_known_audio_containers_are_recognised(head, expected):
    assert sniff_audio(head) == expected


@pytest.mark.parametrize(
    "head",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"hello, this is a plain text file\n",
        b"\xef\xbb\xbfutf-8 text with a BOM",
        b"<!DOCTYPE html><html>",
        b'{"json": true}',
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",  # JPEG: starts with 0xFF but is no MPEG frame sync
        b"PK\x03\x04\x14\x00\x00\x00",  # zip / docx
        b"\x7fELF\x02\x01\x01",
        b"GIF89a",
        riff(b"WEBP"),  # RIFF, but an image
        riff(b"RMID"),  # RIFF, but MIDI
        riff(b"ACON"),
        b"RIFF",  # truncated RIFF header
        b"",
        b"\xff",
        b"\x00" * 64,
    ],
    ids=[
        "pdf",
        "text",
        "utf8-bom",
        "html",
        "json",
        "png",
        "jpeg",
        "zip",
        "elf",
        "gif",
        "riff-webp",
        "riff-midi",
        "riff-acon",
        "riff-truncated",
        "empty",
        "one-byte",
        "zeros",
    ],
)
def test_non_audio_is_refused(head):
    assert sniff_audio(head) is None


def test_short_heads_do_not_raise():
    for n in range(0, 12):
        sniff_audio(riff(b"WAVE")[:n])
        sniff_audio(b"\x00\x00\x00\x20ftypM4A "[:n])


def test_riff_avi_is_not_reported_as_wav():
    head = riff(b"AVI ") + b"LIST\x00\x00\x00\x00hdrlavih"
    assert sniff_audio(head) != "audio/wav"


def test_utf16_text_is_refused():
    assert sniff_audio("\ufeffhello, plain text".encode("utf-16-le")) is None
