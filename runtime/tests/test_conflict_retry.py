"""The repository's one conflict rule: decide again from a fresh load while another writer lands first."""

import pytest

from voxledger.runtime.aggregates import MAX_CONFLICT_RETRIES, retry_on_conflict
from voxledger.runtime.eventstore import ConcurrencyConflict


class Writers:
    """An attempt that meets `conflicts` concurrent writers before its append lands."""

    def __init__(self, conflicts: int):
        self.conflicts = conflicts
        self.tries = 0

    async def attempt(self) -> int:
        self.tries += 1
        if self.tries <= self.conflicts:
            raise ConcurrencyConflict("another writer landed first")
        return self.tries


async def test_an_attempt_that_lands_first_is_tried_once():
    writers = Writers(conflicts=0)
    assert await retry_on_conflict(writers.attempt, "upload") == 1
    assert writers.tries == 1


async def test_each_conflict_is_decided_again_until_the_append_lands():
    writers = Writers(conflicts=MAX_CONFLICT_RETRIES - 1)
    assert await retry_on_conflict(writers.attempt, "upload") == MAX_CONFLICT_RETRIES


async def test_too_many_writers_give_up_naming_what_was_attempted():
    writers = Writers(conflicts=MAX_CONFLICT_RETRIES)
    with pytest.raises(ConcurrencyConflict, match="upload: too many concurrent writers"):
        await retry_on_conflict(writers.attempt, "upload")
    assert writers.tries == MAX_CONFLICT_RETRIES, "bounded: no endless loop under contention"


async def test_any_other_failure_is_not_retried():
    tries = 0

    async def broken() -> None:
        nonlocal tries
        tries += 1
        raise ConnectionError("the store is down")

    with pytest.raises(ConnectionError):
        await retry_on_conflict(broken, "upload")
    assert tries == 1
