"""Turn events from the streaming policy's output: speech started, utterance end, and whether a final ends a turn.

The words the policy hears (finals and the interim, in time order) say where speech is, and the gaps between them
where it paused; the audio received past the last word is the silence after it. Words after a pause of
`utterance_end_s` (or after the start) start speech; such a pause after the last word, or before the next one,
ends the utterance; a final followed by a pause of `endpointing_s` before the next word (or before the end of
what was heard) ends the speaker's turn (Deepgram's `speech_final`). The end of the session ends the turn too.
Pure: it only reads the policy's steps.
"""

import msgspec

from voxledger.contracts.live import LiveTurn
from voxledger.transcriber.live.domain.streaming import Step


class TurnConfig(msgspec.Struct, kw_only=True, frozen=True):
    endpointing_s: float | None = 0.3  # None: no final is flagged as ending a turn
    utterance_end_s: float = 1.0


class Turns(msgspec.Struct, kw_only=True):
    speech_final: bool  # the step's last final ends the speaker's turn
    events: list[LiveTurn]


class TurnTracker:
    def __init__(self, config: TurnConfig, offset_s: float = 0.0):
        self._config = config
        self._speaking = False
        self._last_word_end = offset_s

    def observe(self, step: Step, first_index: int, heard_until_s: float, ended: bool = False) -> Turns:
        """`first_index`: the index of the step's first final (or of the next final); `heard_until_s`: the end
        of the audio received; `ended`: the session ends with this step."""
        events: list[LiveTurn] = []
        spans = [(f.start, f.end, first_index + i) for i, f in enumerate(step.finals)]
        if step.interim is not None:
            spans.append((step.interim.start, step.interim.end, first_index + len(step.finals)))
        for start, end, index in spans:
            if start - self._last_word_end >= self._config.utterance_end_s:
                self._end_utterance(events, index)  # a pause long enough before these words
            if not self._speaking:
                self._speaking = True
                events.append(LiveTurn(kind="speech_started", at=start, after_index=index))
            self._last_word_end = max(self._last_word_end, end)
        pending = step.interim is not None and not ended
        after = first_index + len(step.finals)
        if not pending and (ended or heard_until_s - self._last_word_end >= self._config.utterance_end_s):
            self._end_utterance(events, after)
        return Turns(speech_final=self._speech_final(step, heard_until_s, ended), events=events)

    def _end_utterance(self, events: list[LiveTurn], after_index: int) -> None:
        if self._speaking:
            self._speaking = False
            events.append(LiveTurn(kind="utterance_end", at=round(self._last_word_end, 3), after_index=after_index))

    def _speech_final(self, step: Step, heard_until_s: float, ended: bool) -> bool:
        """The step's last final ends the turn: a pause of `endpointing_s` follows it, before the next word."""
        endpointing_s = self._config.endpointing_s
        if not step.finals or endpointing_s is None:
            return False
        next_word_s = heard_until_s if step.interim is None or ended else step.interim.start
        return ended or next_word_s - step.finals[-1].end >= endpointing_s
