"""What every Decider shares: the refusal it raises, and folding history into state."""

from collections.abc import Callable, Iterable
from typing import TypeVar

State = TypeVar("State")
Event = TypeVar("Event")


class Rejected(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def fold(evolve: Callable[[State, Event], State], initial: State, history: Iterable[Event]) -> State:
    state = initial
    for event in history:
        state = evolve(state, event)
    return state
