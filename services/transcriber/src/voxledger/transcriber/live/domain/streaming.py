"""The streaming policy: LocalAgreement-2 over a sliding audio buffer (as in whisper_streaming).

Each step the model transcribes the whole buffer. A word is confirmed once two consecutive
hypotheses agree on it (and on every word before it); confirmed words become a final segment at the
end of a sentence, once they have waited `max_pending_s` for one, when the buffer grows too long, or
when the session ends. The buffer is then cut
at the final's last word, so a final is never transcribed again. No prompt carries earlier text into
the model: with tiny models it made later words drop out. Pure: the model call is the caller's.
"""

import math
import re

import msgspec
import numpy as np

from voxledger.contracts.events import Segment, Word
from voxledger.contracts.live import LiveInterim

SAMPLE_RATE = 16_000
SENTENCE_END = (".", "?", "!")


class PolicyConfig(msgspec.Struct, kw_only=True, frozen=True):
    min_chunk_s: float = 1.0  # new audio needed before the next step
    # Confirmed words are held for a sentence end at most this long (in audio) before they become a final.
    max_pending_s: float = 1.0
    max_buffer_s: float = 15.0  # past this, confirmed words are finalized even mid-sentence
    silence_keep_s: float = 1.0  # of a buffer with no words, the tail kept (a word may be starting)


class Step(msgspec.Struct, kw_only=True):
    finals: list[Segment]
    interim: LiveInterim | None


def normalized(text: str) -> str:
    return re.sub(r"[^\w']", "", text.lower())


class StreamingPolicy:
    def __init__(self, config: PolicyConfig, first_index: int = 0, offset_s: float = 0.0):
        self._config = config
        self.next_index = first_index
        self.buffer = np.zeros(0, dtype=np.float32)
        self.buffer_start_s = offset_s  # session time of buffer[0]
        self.received_until_s = offset_s
        self._stepped_until_s = offset_s
        self._confirmed: list[Word] = []  # agreed by two hypotheses, not yet in a final
        self._previous: list[Word] = []  # the last hypothesis after the confirmed words
        self._kept: list[Word] = []  # finalized words whose audio the buffer still holds, as context

    def add_audio(self, samples: np.ndarray) -> None:
        self.buffer = np.concatenate([self.buffer, samples.astype(np.float32, copy=False)])
        self.received_until_s += len(samples) / SAMPLE_RATE

    def due(self) -> bool:
        return self.received_until_s - self._stepped_until_s >= self._config.min_chunk_s

    def update(self, hypothesis: list[Word], flush: bool = False) -> Step:
        """`hypothesis`: the model's words for the current buffer, times relative to the buffer start."""
        self._stepped_until_s = self.received_until_s
        words = self._new_words([self._absolute(w) for w in hypothesis])
        if flush:
            self._confirmed += words
            self._previous = []
        else:
            agreed = _common_prefix(self._previous, words)
            self._confirmed += words[:agreed]
            self._previous = words[agreed:]
        finals = self._finalize(flush)
        if not finals and not self._confirmed and not self._previous and not self._kept:
            self._drop_silence()
        return Step(finals=finals, interim=self._interim())

    def _absolute(self, word: Word) -> Word:
        return Word(
            round(word.start + self.buffer_start_s, 3),
            round(word.end + self.buffer_start_s, 3),
            word.word,
            word.probability,
        )

    def _new_words(self, words: list[Word]) -> list[Word]:
        """The hypothesis after the words already settled that the buffer still holds (finals kept as context, confirmed)."""
        settled = self._kept + self._confirmed
        last = settled[-1].end if settled else self.buffer_start_s
        if [normalized(w.word) for w in words[: len(settled)]] == [normalized(w.word) for w in settled]:
            fresh = words[len(settled) :]
        else:  # worded differently this time: go by time, each word on the side of its midpoint
            fresh = [w for w in words if (w.start + w.end) / 2 >= last]
        # Timings shift a little between hypotheses: a new word never starts before the settled ones end.
        return [Word(max(w.start, last), max(w.end, last), w.word, w.probability) for w in fresh]

    def _finalize(self, flush: bool) -> list[Segment]:
        finals: list[Segment] = []
        cut, boundary = 0, None  # boundary: where the buffer may be cut (after a sentence)
        for i, word in enumerate(self._confirmed):
            if word.word.strip().endswith(SENTENCE_END):
                finals.append(self._segment(self._confirmed[cut : i + 1]))
                cut, boundary = i + 1, word.end
        too_long = self.received_until_s - self.buffer_start_s > self._config.max_buffer_s
        pending_s = self.received_until_s - self._confirmed[cut].end if cut < len(self._confirmed) else 0.0
        if (flush or too_long or pending_s > self._config.max_pending_s) and cut < len(self._confirmed):
            finals.append(self._segment(self._confirmed[cut:]))
            cut = len(self._confirmed)
        if too_long and not finals and self._previous:
            # No agreement for a whole buffer: take the words well before the buffer's end as they are.
            settled = [w for w in self._previous if w.end < self.received_until_s - self._config.min_chunk_s]
            if settled:
                finals.append(self._segment(settled))
                self._previous = self._previous[len(settled) :]
        self._confirmed = self._confirmed[cut:]
        # A final mid-sentence keeps its audio in the buffer: the model reads the rest of the sentence better with it.
        self._kept += [w for f in finals for w in f.words or []]
        if finals and (flush or too_long):
            boundary = finals[-1].end
        if boundary is not None:
            self._cut_buffer(boundary)
            self._kept = [w for w in self._kept if w.start >= boundary]
        return finals

    def _segment(self, words: list[Word]) -> Segment:
        text = "".join(w.word for w in words).strip()
        logprob = sum(math.log(max(w.probability, 1e-6)) for w in words) / len(words)
        segment = Segment(
            index=self.next_index,
            start=words[0].start,
            end=words[-1].end,
            text=text,
            avg_logprob=round(logprob, 4),
            no_speech_prob=0.0,
            words=words,
        )
        self.next_index += 1
        return segment

    def _cut_buffer(self, at_s: float) -> None:
        drop = max(0, min(len(self.buffer), int(round((at_s - self.buffer_start_s) * SAMPLE_RATE))))
        self.buffer = self.buffer[drop:]
        self.buffer_start_s += drop / SAMPLE_RATE

    def _drop_silence(self) -> None:
        keep_from = self.received_until_s - self._config.silence_keep_s
        if keep_from > self.buffer_start_s:
            self._cut_buffer(keep_from)

    def _interim(self) -> LiveInterim | None:
        words = self._confirmed + self._previous
        if not words:
            return None
        return LiveInterim(
            index=self.next_index,
            start=words[0].start,
            end=words[-1].end,
            text="".join(w.word for w in words).strip(),
            confidence=round(sum(w.probability for w in words) / len(words), 4),
        )


def _common_prefix(previous: list[Word], current: list[Word]) -> int:
    n = 0
    while n < min(len(previous), len(current)) and normalized(previous[n].word) == normalized(current[n].word):
        n += 1
    return n
