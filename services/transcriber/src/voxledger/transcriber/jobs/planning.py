"""Planning a long recording: its length and its cuts, found without decoding the whole file.

The recording is split into equal chunks of about `chunk_s`, so no chunk is much longer than the others
and the last one to finish does not keep the other workers waiting. Each cut is looked for near its equal
split: only a window of `chunk_search_s` either side is decoded (the demuxer seeks to it, all the windows
from one opening of the file), and the cut goes in the middle of its quietest short frame.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from voxledger.contracts.events import ChunkSpan
from voxledger.transcriber.adapters import audio
from voxledger.transcriber.domain import stitching
from voxledger.transcriber.settings import TranscriberSettings

FRAME_S = 0.05  # shorter than a pause between words, longer than a plosive's gap


def plan(path: Path, settings: TranscriberSettings) -> tuple[float, list[ChunkSpan]] | None:
    """Blocking (call in a thread). The duration and chunks, or None when the recording is not long enough."""
    duration_s = audio.probe_duration(path, settings.max_audio_duration_s)
    if duration_s <= settings.chunk_threshold_s:
        return None
    cuts = quiet_cuts(path, stitching.nominal_cuts(duration_s, settings.chunk_s), settings.chunk_search_s)
    return duration_s, stitching.plan_spans(duration_s, cuts)


def quiet_cuts(path: Path, near_s: Sequence[float], search_s: float) -> list[float]:
    """For each time, the quietest point within `search_s` of it."""
    windows = [(max(at_s - search_s, 0.0), at_s + search_s) for at_s in near_s]
    decoded = audio.decode_windows(path, windows)
    found = zip(decoded, windows, near_s, strict=True)
    return sorted({_quietest(samples, first_s, at_s) for samples, (first_s, _), at_s in found})


def _quietest(samples: np.ndarray, first_s: float, at_s: float) -> float:
    size = round(FRAME_S * audio.SAMPLE_RATE)
    frames = len(samples) // size
    if frames == 0:
        return at_s
    energies = np.square(samples[: frames * size].reshape(frames, size)).mean(axis=1)
    return round(stitching.quietest(energies.tolist(), first_s, FRAME_S), 3)
