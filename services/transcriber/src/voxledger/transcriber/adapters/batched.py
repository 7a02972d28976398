"""Batched decoding that yields as it goes: faster-whisper's batched pipeline, fed a few chunks at a time.

`BatchedInferencePipeline.transcribe` runs VAD and computes the features of every chunk before it returns,
then decodes `batch_size` chunks per call: a recording of under 8 chunks (4 minutes of speech) is one call,
so its first segment came when the last was done. Here VAD and chunking run once, as faster-whisper does
them, and the chunks are decoded in groups that start at one chunk and grow while a group takes less than
GROUP_TARGET_S, up to `batch_size`: the first segment comes after one chunk, then one group every second or two.
"""

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.transcribe import Segment as RawSegment
from faster_whisper.transcribe import restore_speech_timestamps
from faster_whisper.vad import VadOptions, get_speech_timestamps

SAMPLE_RATE = 16000
CHUNK_S = 30  # Whisper's window: a chunk holds up to this much speech
# A group's wall time to aim for: segments, and with them progress, at about this pace. Larger groups
# decode faster per chunk (the decoder batches), so a fast machine (or a GPU) still gets up to `batch_size`.
GROUP_TARGET_S = 1.5


class GroupSizer:
    """How many chunks to decode together next: doubling from 1 while a group stays within the target."""

    def __init__(self, batch_size: int, target_s: float = GROUP_TARGET_S):
        self._max = batch_size
        self._target_s = target_s
        self.size = 1

    def observe(self, chunks: int, seconds: float) -> None:
        per_chunk = seconds / max(chunks, 1)
        fits = int(self._target_s / per_chunk) if per_chunk > 0 else self._max
        self.size = max(1, min(self._max, 2 * self.size, fits))


def speech_chunks(audio: np.ndarray, vad: dict[str, Any]) -> list[list[dict[str, int]]]:
    """The VAD's speech clips (sample spans), packed in order into chunks of up to CHUNK_S of speech.

    faster-whisper's `collect_chunks` packs the same way, but its chunks' lists of clips lack their first."""
    clips = get_speech_timestamps(audio, VadOptions(**vad, max_speech_duration_s=CHUNK_S))
    chunks: list[list[dict[str, int]]] = []
    room = 0
    for clip in clips:
        length = clip["end"] - clip["start"]
        if not chunks or length > room:
            chunks.append([])
            room = CHUNK_S * SAMPLE_RATE
        chunks[-1].append(clip)
        room -= length
    return chunks


def transcribe_batched(
    model: WhisperModel, audio: np.ndarray, batch_size: int, vad: dict[str, Any], **hints: Any
) -> tuple[Iterator[RawSegment], Any]:
    """As `BatchedInferencePipeline(model).transcribe(audio, batch_size=..., vad_parameters=vad, **hints)`:
    the language is known when it returns (detected on the first chunk, as faster-whisper does); the
    groups are decoded as the segments are read."""
    pipeline = BatchedInferencePipeline(model)
    chunks = speech_chunks(audio, vad)
    if not chunks:  # no speech: faster-whisper's own answer (no segments, the language it assumes)
        return pipeline.transcribe(audio, batch_size=batch_size, vad_parameters=vad, **hints)
    first, info = _group(pipeline, audio, chunks[:1], hints)
    hints = {**hints, "language": info.language}
    sizer = GroupSizer(batch_size)

    def segments() -> Iterator[RawSegment]:
        done, size, pending = 0, 1, first
        while True:
            started = time.monotonic()
            decoded = list(pending)  # the group's batch is decoded here
            done += size
            yield from decoded
            if done >= len(chunks):
                return
            sizer.observe(size, time.monotonic() - started)
            size = min(sizer.size, len(chunks) - done)
            pending, _ = _group(pipeline, audio, chunks[done : done + size], hints)

    return segments(), info


def _group(
    pipeline: BatchedInferencePipeline, audio: np.ndarray, group: list[list[dict[str, int]]], hints: dict[str, Any]
) -> tuple[Iterator[RawSegment], Any]:
    """One batch, decoded as it is read: the group's speech joined, each chunk a clip of it, times mapped back."""
    clips = [clip for chunk in group for clip in chunk]
    speech = np.concatenate([audio[clip["start"] : clip["end"]] for clip in clips])
    spans, at = [], 0
    for chunk in group:
        length = sum(clip["end"] - clip["start"] for clip in chunk)
        spans.append({"start": at / SAMPLE_RATE, "end": (at + length) / SAMPLE_RATE})
        at += length
    raw, info = pipeline.transcribe(speech, clip_timestamps=spans, batch_size=len(group), **hints)
    return restore_speech_timestamps(raw, clips, SAMPLE_RATE), info
