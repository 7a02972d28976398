"""Turn events from the streaming policy's output: speech started, utterance end, and whether a final ends a turn.

The words the policy hears (finals and the interim) say where speech is; the audio received past the last word
is the silence after it. Words appearing after silence start speech; silence of `utterance_end_s` after the last
word ends the utterance; a final with nothing pending after it and `endpointing_s` of silence ends the speaker's
turn (Deepgram's `speech_final`). The end of the session ends the turn too. Pure: it only reads the policy's steps.
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
        spans = [(f.start, f.end) for f in step.finals]
        if step.interim is not None:
            spans.append((step.interim.start, step.interim.end))
        events: list[LiveTurn] = []
        if spans and not self._speaking:
            self._speaking = True
            events.append(LiveTurn(kind="speech_started", at=min(s for s, _ in spans), after_index=first_index))
        if spans:
            self._last_word_end = max(self._last_word_end, max(e for _, e in spans))
        silence_s = heard_until_s - self._last_word_end
        pending = step.interim is not None and not ended
        speech_final = bool(step.finals) and not pending and self._ends_turn(silence_s, ended)
        if self._speaking and not pending and (ended or silence_s >= self._config.utterance_end_s):
            self._speaking = False
            after = first_index + len(step.finals)
            events.append(LiveTurn(kind="utterance_end", at=round(self._last_word_end, 3), after_index=after))
        return Turns(speech_final=speech_final, events=events)

    def _ends_turn(self, silence_s: float, ended: bool) -> bool:
        endpointing_s = self._config.endpointing_s
        return endpointing_s is not None and (ended or silence_s >= endpointing_s)
