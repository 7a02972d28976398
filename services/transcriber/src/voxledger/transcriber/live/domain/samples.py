"""Live frames as the model wants them: 16 kHz mono float32. Pure."""

import numpy as np

from voxledger.transcriber.live.domain.streaming import SAMPLE_RATE

__all__ = ["SAMPLE_RATE", "to_samples"]


def to_samples(data: bytes, encoding: str, sample_rate: int) -> np.ndarray:
    """One frame as 16 kHz float32; other rates are resampled linearly (frames are long enough for that)."""
    if encoding == "pcm_s16le":
        samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    else:
        samples = np.nan_to_num(np.frombuffer(data, dtype="<f4").astype(np.float32)).clip(-1.0, 1.0)
    if sample_rate == SAMPLE_RATE or len(samples) == 0:
        return samples
    n = int(round(len(samples) * SAMPLE_RATE / sample_rate))
    resampled: np.ndarray = np.interp(np.arange(n) * sample_rate / SAMPLE_RATE, np.arange(len(samples)), samples)
    return resampled.astype(np.float32)
