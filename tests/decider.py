"""Given / when / then for every Decider: the one harness the deciders' unit tests share.

scenario = Scenario(decide, evolve, Recording())
scenario.given(ev.RecordingUploaded(...))         # what the log already holds
produced = scenario.when(StartAttempt(...))       # decided, then applied, as the repository appends it
assert scenario.rejects(Cancel(...)) == "job_finished"
"""

from collections.abc import Callable
from typing import Any, Generic, Self, TypeVar

import pytest

from voxledger.contracts.decisions import Rejected

State = TypeVar("State")


class Scenario(Generic[State]):
    def __init__(self, decide: Callable[[Any, State], list], evolve: Callable[[State, Any], State], state: State):
        self._decide = decide
        self._evolve = evolve
        self.state = state
        self.history: list = []  # every event given or decided, in order: folding it gives `state` again

    def given(self, *events: Any) -> Self:
        """Past events, applied without deciding anything."""
        for event in events:
            self.state = self._evolve(self.state, event)
            self.history.append(event)
        return self

    def when(self, *commands: Any) -> list:
        """Decides each command on the state so far and applies what it produced; returns all it produced."""
        produced: list = []
        for command in commands:
            decided = self._decide(command, self.state)
            self.given(*decided)
            produced += decided
        return produced

    def rejects(self, command: Any) -> str:
        """The code of the refusal `command` meets; a refused command changes nothing."""
        with pytest.raises(Rejected) as refused:
            self._decide(command, self.state)
        return refused.value.code


def names(events: list) -> list[str]:
    """Event type names, for `then` checks that care about what happened rather than each field."""
    return [type(event).__name__ for event in events]
