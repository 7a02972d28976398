"""Audio helpers the fixture scripts share: decode to 16 kHz mono, trim silence, write WAV and Ogg/Opus.

Outputs are bit-exact, so regenerating a fixture gives the same bytes.
"""

import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RATE = 16000
AV_CODEC_FLAG_BITEXACT = 1 << 23


def load_16k(path: Path) -> np.ndarray:
    """Decode a file and resample it to 16 kHz mono s16 with PyAV."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    parts = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(parts).astype(np.int16)


def trim(x: np.ndarray, thresh: int = 64) -> np.ndarray:
    """Strip espeak-ng's leading/trailing silence so pauses are uniform."""
    idx = np.flatnonzero(np.abs(x.astype(np.int32)) > thresh)
    return x[idx[0] : idx[-1] + 1] if idx.size else x


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), dtype=np.int16)


def write_wav(path: Path, pcm: np.ndarray) -> None:
    # stdlib wave gives a canonical 44-byte RIFF header (no LIST/INFO chunk).
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.astype("<i2").tobytes())


def write_opus(path: Path, pcm: np.ndarray, bit_rate: int) -> None:
    # bitexact: fixed Ogg serial number and no encoder-version tag, so the output is reproducible.
    with av.open(str(path), "w", format="ogg", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libopus", rate=RATE, layout="mono")
        stream.bit_rate = bit_rate
        stream.codec_context.flags |= AV_CODEC_FLAG_BITEXACT
        for start in range(0, len(pcm), 4000):
            frame = av.AudioFrame.from_ndarray(pcm[start : start + 4000].reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = RATE
            frame.pts = start
            frame.time_base = Fraction(1, RATE)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
