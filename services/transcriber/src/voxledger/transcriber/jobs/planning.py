"""Planning a long recording: its length and its cuts, found without decoding the whole file.

Each cut is looked for near a multiple of `chunk_s`: only a window of `chunk_search_s` either side is
decoded (the demuxer seeks to it), and the cut goes in the middle of its quietest short frame.
"""

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
    nominal = stitching.nominal_cuts(duration_s, settings.chunk_s)
    cuts = sorted({quiet_cut(path, at, settings.chunk_search_s) for at in nominal})
    return duration_s, stitching.plan_spans(duration_s, cuts)


def quiet_cut(path: Path, at_s: float, search_s: float) -> float:
    first_s = max(at_s - search_s, 0.0)
    samples = audio.decode_window(path, first_s, at_s + search_s)
    size = round(FRAME_S * audio.SAMPLE_RATE)
    frames = len(samples) // size
    if frames == 0:
        return at_s
    energies = np.square(samples[: frames * size].reshape(frames, size)).mean(axis=1)
    return round(stitching.quietest(energies.tolist(), first_s, FRAME_S), 3)
