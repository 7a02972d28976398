"""Audio made on the fly for tests: long files that are tiny on disk."""

import io

import av
import numpy as np


def silent_flac(seconds: int, rate: int = 8000) -> bytes:
    """`seconds` of silence as FLAC, a minute per frame: an hour is about 0.6 MB."""
    out = io.BytesIO()
    with av.open(out, "w", format="flac") as container:
        stream = container.add_stream("flac", rate=rate, layout="mono")
        minute = np.zeros((1, 60 * rate), dtype=np.int16)
        for i in range(seconds // 60):
            frame = av.AudioFrame.from_ndarray(minute, format="s16", layout="mono")
            frame.sample_rate, frame.pts = rate, i * 60 * rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()
