"""What every Decider shares: the Decider value itself, the refusal it raises, and folding history into state."""

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import msgspec

State = TypeVar("State")
Event = TypeVar("Event")
C = TypeVar("C")
E = TypeVar("E")
S = TypeVar("S")


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


class Decider(msgspec.Struct, Generic[C, E, S], frozen=True):
    """An aggregate's pure rules: `decide` what a command makes true from the state, `evolve` the state by an
    event. The state is a frozen value, so whoever holds one (a long-running job) never sees it change."""

    initial: S
    decide: Callable[[C, S], list[E]]
    evolve: Callable[[S, E], S]

    def fold(self, history: Iterable[Any]) -> S:
        """The state after `history`, from `initial`; events of other aggregates' deciders leave it as it is."""
        return fold(self.evolve, self.initial, history)
