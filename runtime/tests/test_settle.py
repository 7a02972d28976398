"""How a command message is settled (the frame of runtime/messaging.py around runtime/commands.py), on a real
JetStream consumer: acked once handled, terminated when rejected or unreadable, redelivered soon after a conflict
and later after any other failure."""

import time
from typing import Any

import pytest

from voxledger.contracts.commands import CancelTranscription
from voxledger.contracts.decisions import Rejected
from voxledger.runtime.commands import handle_command
from voxledger.runtime.eventstore import ConcurrencyConflict
from voxledger.runtime.messaging import CONFLICT_RETRY_S, TRANSIENT_RETRY_S, envelopes, framed

ACK_WAIT_S = 30  # far beyond every delay here: a redelivery below comes from the NAK, not from the ack wait


def running(outcome: Exception | None):
    async def run(command, meta):
        if outcome is not None:
            raise outcome
        return []

    return run


async def handle(msg, accepts: Any, run) -> None:
    """As a subscriber of a service gets it: decoded, inside the frame that settles it."""
    msg.set_decoder(envelopes())

    async def handler(framed_msg):
        await handle_command(await framed_msg.decode(), accepts, run)

    await framed(msg, handler)


async def handled_once(command_queue, outcome: Exception | None, body: bytes | None = None) -> tuple[Any, float]:
    """The command handled with `run` ending in `outcome`; the queue and when it was settled."""
    queue = await command_queue(ACK_WAIT_S, body)
    msg = await queue.next(5)
    assert msg is not None
    await handle(msg, CancelTranscription, running(outcome))
    return queue, time.monotonic()


async def test_a_handled_command_is_acked_and_never_redelivered(command_queue):
    queue, _ = await handled_once(command_queue, None)
    assert await queue.next(2 * TRANSIENT_RETRY_S) is None
    assert await queue.unsettled() == 0


@pytest.mark.parametrize("body", [None, b"not an envelope"], ids=["rejected", "unreadable"])
async def test_a_rejected_or_unreadable_command_is_terminated(command_queue, body):
    queue = await command_queue(ACK_WAIT_S, body)
    terminated = await queue.terminations()
    msg = await queue.next(5)
    assert msg is not None
    await handle(msg, CancelTranscription, running(Rejected("job_not_found", "no such job")))
    await terminated.next_msg(timeout=5)  # raises if JetStream was not told to terminate it
    assert await queue.next(2 * TRANSIENT_RETRY_S) is None
    assert await queue.unsettled() == 0


async def test_a_conflict_is_redelivered_soon_to_decide_again(command_queue):
    queue, settled_at = await handled_once(command_queue, ConcurrencyConflict("another writer landed first"))
    again = await queue.next(TRANSIENT_RETRY_S)
    assert again is not None, "redelivered well before a transient failure would be"
    assert again.raw_message.metadata.num_delivered == 2
    assert time.monotonic() - settled_at >= CONFLICT_RETRY_S


async def test_any_other_failure_is_redelivered_after_the_transient_delay(command_queue):
    queue, settled_at = await handled_once(command_queue, ConnectionError("the store is down"))
    again = await queue.next(ACK_WAIT_S / 2)
    assert again is not None and again.raw_message.metadata.num_delivered == 2
    assert time.monotonic() - settled_at >= TRANSIENT_RETRY_S * 0.9  # the broker's clock, not ours


async def test_a_message_of_another_command_is_a_bug_and_raises(command_queue):
    queue = await command_queue(ACK_WAIT_S)
    msg = await queue.next(5)
    assert msg is not None
    with pytest.raises(TypeError, match="not a command of this handler"):
        await handle_command(await envelopes()(msg), Rejected, running(None))
