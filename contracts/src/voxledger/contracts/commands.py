"""Commands: requests a handler may refuse. Only events are facts."""

from typing import ClassVar

import msgspec

from voxledger.contracts.events import TranscriptionOptions
from voxledger.contracts.insights import InsightKind
from voxledger.contracts.sealing import clear_v1_to_v2


class Command(msgspec.Struct, kw_only=True):
    SCHEMA_VERSION: ClassVar[int] = 1


class UploadRecording(Command):
    """Registers stored audio as a recording; with job_id set, also queues a transcription.

    v2: `filename` may be sealed; v3: `options.prompt` and `options.hotwords` too (contracts/sealing.py)."""

    SCHEMA_VERSION: ClassVar[int] = 3

    recording_id: str
    filename: str
    content_type: str
    size_bytes: int
    blob_key: str
    blob_digest: str
    job_id: str | None = None
    options: TranscriptionOptions = msgspec.field(default_factory=TranscriptionOptions)


class RequestTranscription(Command):
    """v2: `options.prompt` and `options.hotwords` may be sealed (contracts/sealing.py)."""

    SCHEMA_VERSION: ClassVar[int] = 2
    recording_id: str
    job_id: str
    options: TranscriptionOptions = msgspec.field(default_factory=TranscriptionOptions)


class CancelTranscription(Command):
    """Cancels a queued or running job; repeating it is harmless."""

    recording_id: str
    job_id: str


class RequestInsights(Command):
    """Re-runs post-processing of a completed job, for all kinds or the ones named."""

    recording_id: str
    job_id: str
    run_id: str
    kinds: list[InsightKind]


class DeleteRecording(Command):
    """Deletes a recording, its audio and everything derived from it; open jobs are cancelled."""

    recording_id: str


class NameSpeakers(Command):
    """Renames a job's speaker labels (`names`: S1 -> "Maria") and merges labels into others (`merge`: S3 -> S1)."""

    recording_id: str
    job_id: str
    names: dict[str, str] = msgspec.field(default_factory=dict)
    merge: dict[str, str] = msgspec.field(default_factory=dict)


class RequestDiarization(Command):
    """Diarizes a completed job again; only `speakers`, `min_speakers` and `max_speakers` of the options count."""

    recording_id: str
    job_id: str
    run_id: str
    options: TranscriptionOptions


class DescribeRecording(Command):
    """Names, tags or files a recording; a field left out keeps its value (an empty one clears it)."""

    recording_id: str
    name: str | None = None
    tags: list[str] | None = None
    folder: str | None = None


RecordingCommand = (
    UploadRecording
    | RequestTranscription
    | CancelTranscription
    | RequestInsights
    | DeleteRecording
    | NameSpeakers
    | RequestDiarization
    | DescribeRecording
)

COMMAND_TYPES: dict[str, type[Command]] = {cls.__name__: cls for cls in RecordingCommand.__args__}

COMMAND_UPCASTERS = {
    ("UploadRecording", 1): clear_v1_to_v2,
    ("UploadRecording", 2): clear_v1_to_v2,
    ("RequestTranscription", 1): clear_v1_to_v2,
}
