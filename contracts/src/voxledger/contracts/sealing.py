"""Which fields of which messages are sealed (encrypted with the recording's data key), as plain data.

On the wire a sealed message keeps its routing fields (ids, kinds, times) in clear and carries the
sensitive ones, JSON-encoded and encrypted, in one `sealed` field (base64 of nonce, ciphertext, tag).
The associated data binds each ciphertext to its recording, message type and message id, so a
ciphertext moved to another recording or event does not decrypt.

When the data key has been destroyed (the recording was deleted), a sealed message decodes with the
`ERASED` placeholders below instead: every reader sees an event with nothing in it.
"""

import base64
from collections.abc import Callable
from typing import Any, Protocol

SEALED_FIELD = "sealed"


class PayloadCipher(Protocol):
    """One recording's data key: an authenticated cipher (runtime/crypto.py)."""

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes: ...

    def decrypt(self, ciphertext: bytes, aad: bytes) -> bytes: ...


# A recording id -> its cipher, or None when its key is gone (destroyed by a delete).
CipherLookup = Callable[[str], PayloadCipher | None]


def without_content(_: str) -> PayloadCipher | None:
    """The lookup of a reader that never needs content (webhook fan-out): sealed fields read blank."""
    return None


# What a person typed to steer the model (names, vocabulary): `options.prompt` is the field `prompt` of `options`.
TYPED_OPTIONS = ("options.prompt", "options.hotwords")
# message type -> the fields that hold a person's words, names or voice (a dotted name: a field of a field).
SEALED_FIELDS: dict[str, tuple[str, ...]] = {
    "UploadRecording": ("filename", *TYPED_OPTIONS),
    "RequestTranscription": TYPED_OPTIONS,
    "TranscriptionRequested": TYPED_OPTIONS,
    "RecordingUploaded": ("filename",),
    "SegmentsTranscribed": ("segments",),
    "ChunkTranscribed": ("segments",),
    "InsightReady": ("payload",),
    "PassagesEmbedded": ("passages",),  # a vector says what was said, nearly as well as the text
    # The names people give to speakers are a person's name, like the words.
    "NameSpeakers": ("names",),
    "SpeakersNamed": ("names",),
    # What a person calls and files a recording says what it is about, like its filename.
    "DescribeRecording": ("name", "tags", "folder"),
    "RecordingDescribed": ("name", "tags", "folder"),
}

_ANALYTICS_ZEROS = dict.fromkeys(
    (
        "duration_s",
        "speech_s",
        "silence_s",
        "word_count",
        "wpm",
        "filler_count",
        "fillers_per_min",
        "longest_monologue_s",
        "longest_monologue_start",
        "question_count",
    ),
    0,
)
_ERASED_PAYLOADS: dict[str, dict[str, Any]] = {
    "refinement": {"text": "", "paragraphs": [], "fillers_removed": 0, "repeats_removed": 0},
    "analytics": {**_ANALYTICS_ZEROS, "pace": [], "fillers": {}, "speakers": []},
    "action_items": {"items": []},
    "summary": {"text": "", "points": [], "keywords": []},
}


def _erased_payload(data: dict[str, Any]) -> dict[str, Any]:
    kind = str(data.get("kind", "summary"))
    return {"payload": {"kind": kind, **_ERASED_PAYLOADS.get(kind, _ERASED_PAYLOADS["summary"])}}


# message type -> the values its sealed fields read as once the key is gone.
ERASED: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "UploadRecording": lambda _: {"filename": ""},
    "RequestTranscription": lambda _: {},  # the options read as sent, without prompt and hotwords
    "TranscriptionRequested": lambda _: {},
    "RecordingUploaded": lambda _: {"filename": ""},
    "SegmentsTranscribed": lambda _: {"segments": []},
    "ChunkTranscribed": lambda _: {"segments": []},
    "InsightReady": _erased_payload,
    "PassagesEmbedded": lambda _: {"passages": []},
    "NameSpeakers": lambda _: {"names": {}},
    "SpeakersNamed": lambda _: {"names": {}},
    "DescribeRecording": lambda _: {"name": None, "tags": None, "folder": None},
    "RecordingDescribed": lambda _: {"name": "", "tags": [], "folder": ""},
}


def clear_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v2 of a type with sealed fields may carry them sealed; a v1 message has them in clear, as v2 may too."""
    return data


def associated_data(recording_id: str, kind: str, message_id: str) -> bytes:
    """What a ciphertext is bound to; a live frame's `message_id` is its byte offset."""
    return f"voxledger/1\0{recording_id}\0{kind}\0{message_id}".encode()


def seal_fields(
    data: dict[str, Any], kind: str, cipher: PayloadCipher, aad: bytes, encode: Callable[[Any], bytes]
) -> dict[str, Any]:
    """`data` with the type's sensitive fields moved into one ciphertext."""
    clear, secret = dict(data), {}
    for name in SEALED_FIELDS[kind]:
        outer, _, inner = name.partition(".")
        if not inner and outer in clear:
            secret[name] = clear.pop(outer)
        elif inner and isinstance(clear.get(outer), dict) and inner in clear[outer]:
            clear[outer] = {**clear[outer]}
            secret[name] = clear[outer].pop(inner)
    return {**clear, SEALED_FIELD: base64.b64encode(cipher.encrypt(encode(secret), aad)).decode()}


def _merged(data: dict[str, Any], secret: dict[str, Any]) -> dict[str, Any]:
    """`data` with the opened fields back in their places."""
    for name, value in secret.items():
        outer, _, inner = name.partition(".")
        data = {**data, outer: {**data.get(outer, {}), inner: value}} if inner else {**data, name: value}
    return data


def open_fields(
    data: dict[str, Any],
    kind: str,
    cipher: PayloadCipher | None,
    aad: bytes,
    decode: Callable[[bytes], dict[str, Any]],
) -> tuple[dict[str, Any], bool]:
    """`data` with its sealed fields back in clear, and whether they were erased (the key is gone)."""
    sealed = data.pop(SEALED_FIELD, None)
    if sealed is None:
        return data, False  # written in clear (before sealing, or with sealing off)
    if cipher is None:
        return {**data, **ERASED[kind](data)}, True
    return _merged(data, decode(cipher.decrypt(base64.b64decode(sealed), aad))), False
