"""Offline speaker diarization: pyannote segmentation-3.0 and CAM++ as ONNX files run by onnxruntime.

The models ship in diarization_models/ (see its README for where they come from and their licenses); nothing is
fetched at run time. Features are Kaldi fbanks from kaldi-native-fbank, clustering is scikit-learn's
agglomerative clustering on cosine distance.
"""

import functools
import threading
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import kaldi_native_fbank as knf
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray
from sklearn.cluster import AgglomerativeClustering

from voxledger.transcriber.domain.speakers import (
    FrameGrid,
    SpeakerCount,
    Turn,
    active_spans,
    add_overlaps,
    estimate_speakers,
    label_turns,
    overlap_add,
    windows,
)

MODELS = Path(str(files("voxledger.transcriber.adapters").joinpath("diarization_models")))
RATE = 16000
CHUNK = 10 * RATE  # the segmentation model's input: 10 s
CHUNK_STEP = 5 * RATE  # half-overlapping chunks; a smaller step buys little on these fixtures and costs linearly
GRID = FrameGrid(step=0.016875, offset=0.0619375 / 2)  # segmentation-3.0's frames (from its SincNet strides)
# Under this many windows (about 8 s of speech) the eigengap is unstable, and an average-linkage cosine distance
# threshold decides instead; 0.45 separates every fixture's speakers (0.4 splits a voice, 0.5 merges two).
MIN_WINDOWS_FOR_ESTIMATE = 10
DISTANCE_THRESHOLD = 0.45
BATCH = 32
MIN_SAMPLES = RATE // 4  # under a quarter second there is no turn to find

Progress = Callable[[float], None]


class Diarizer:
    """Loads both models once; `diarize` is blocking and thread-safe (call it from a worker thread)."""

    def __init__(self, threads: int = 1, models: Path = MODELS) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        self._segmentation = ort.InferenceSession(str(models / "segmentation-3.0.onnx"), options, providers=providers)
        self._embedding = ort.InferenceSession(str(models / "campplus.onnx"), options, providers=providers)
        self._fbank = knf.FbankOptions()
        self._fbank.frame_opts.dither = 0.0
        self._fbank.frame_opts.samp_freq = RATE
        self._fbank.mel_opts.num_bins = 80
        self._lock = threading.Lock()

    def diarize(
        self, samples: NDArray[np.float32], count: SpeakerCount | None = None, progress: Progress | None = None
    ) -> list[Turn]:
        """Speaker turns of 16 kHz mono float samples; progress gets 0..1 as the work advances."""
        report = progress or (lambda _: None)
        if len(samples) < MIN_SAMPLES:
            report(1.0)
            return []
        with self._lock:
            scores = self._frame_scores(samples, lambda p: report(0.3 * p))
            speech = active_spans(scores[:, 0], GRID)
            spans = windows(speech)
            if not spans:
                report(1.0)
                return []
            embeddings = self._embed(samples, spans, lambda p: report(0.3 + 0.65 * p))
        labels = cluster(embeddings, count or SpeakerCount())
        overlaps = active_spans(scores[:, 1], GRID, min_on=0.2)
        report(1.0)
        return add_overlaps(label_turns(spans, labels), overlaps)

    def _frame_scores(self, samples: NDArray[np.float32], report: Progress) -> NDArray[np.float32]:
        """Per frame: probability of speech, and of two speakers at once."""
        n = len(samples)
        starts = list(range(0, max(n - CHUNK, 0) + 1, CHUNK_STEP))
        if n > CHUNK and (n - CHUNK) % CHUNK_STEP:
            starts.append(n - CHUNK)
        frames = GRID.index(n / RATE) + 1
        parts = []
        for b in range(0, len(starts), BATCH):
            report(b / len(starts))
            batch = np.stack([_padded(samples[s : s + CHUNK]) for s in starts[b : b + BATCH]])[:, None, :]
            probs = np.exp(self._segmentation.run(None, {"waveform": batch})[0])
            # Powerset classes: none, S1, S2, S3, S1+S2, S1+S3, S2+S3.
            parts.append(np.stack([1.0 - probs[..., 0], probs[..., 4:].sum(-1)], axis=-1))
        first = [round(s / RATE / GRID.step) for s in starts]  # a chunk's frame 0 lies at its start + offset
        return overlap_add(np.concatenate(parts).astype(np.float32), first, frames)

    def _embed(self, samples: NDArray[np.float32], spans: list[tuple[float, float]], report: Progress) -> NDArray:
        feats = []
        for i, (a, b) in enumerate(spans):
            if i % BATCH == 0:
                report(0.0)  # a stopped run ends here too: features of hours of speech take a while
            feats.append(self._features(samples[round(a * RATE) : round(b * RATE)]))
        out = np.zeros((len(feats), 192), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for i, f in enumerate(feats):
            by_length.setdefault(len(f), []).append(i)
        done = 0
        for group in by_length.values():  # windows of one length run as one batch
            for b in range(0, len(group), BATCH):
                idx = group[b : b + BATCH]
                out[idx] = self._embedding.run(None, {"fbank": np.stack([feats[i] for i in idx])})[0]
                done += len(idx)
                report(done / len(feats))
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    def _features(self, piece: NDArray[np.float32]) -> NDArray[np.float32]:
        fbank = knf.OnlineFbank(self._fbank)
        # Kaldi features expect 16-bit sample magnitudes.
        fbank.accept_waveform(RATE, (_padded(piece, 400) * 32768.0).tolist())
        fbank.input_finished()
        feats = np.stack([fbank.get_frame(i) for i in range(fbank.num_frames_ready)]).astype(np.float32)
        return feats - feats.mean(axis=0)  # CAM++ was trained on mean-normalised features


def cluster(embeddings: NDArray[np.float32], count: SpeakerCount) -> list[int]:
    """One label per window: the count estimated within the request's bounds, then average-linkage clustering."""
    lo, hi = count.bounds(len(embeddings))
    if len(embeddings) < MIN_WINDOWS_FOR_ESTIMATE and lo < hi:
        # Too few windows for a stable spectrum: a distance threshold decides, clamped to the bounds.
        found = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=DISTANCE_THRESHOLD
        ).fit_predict(embeddings)
        n = min(max(int(found.max()) + 1, lo), hi)
    else:
        n = estimate_speakers(embeddings, lo, hi)
    if n <= 1:
        return [0] * len(embeddings)
    labels = AgglomerativeClustering(n_clusters=n, metric="cosine", linkage="average").fit_predict(embeddings)
    return [int(x) for x in labels]


def _padded(x: NDArray[np.float32], size: int = CHUNK) -> NDArray[np.float32]:
    return x if len(x) >= size else np.pad(x, (0, size - len(x)))


@functools.cache
def shared() -> Diarizer:
    """One diarizer per process, loaded on first use (about 0.3 s), so jobs without speakers never load it."""
    return Diarizer()
