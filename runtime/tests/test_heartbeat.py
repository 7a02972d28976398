"""Heartbeats (runtime/consumers.py): in_progress well inside AckWait keeps a live worker's message from being
redelivered; once the work is no longer ours, the beats stop and JetStream redelivers it."""

import pytest

from voxledger.runtime.consumers import heartbeat, retry_delay_s

ACK_WAIT_S = 1.5
BEAT_S = 0.3  # the cadence: several beats per AckWait


async def test_a_beating_worker_keeps_its_message_past_the_ack_wait(command_queue):
    queue = await command_queue(ACK_WAIT_S)
    msg = await queue.next(5)
    assert msg is not None
    async with heartbeat(msg, BEAT_S):
        assert await queue.next(3 * ACK_WAIT_S) is None, "not redelivered while the work is alive"
    again = await queue.next(3 * ACK_WAIT_S)
    assert again is not None, "redelivered once the beats stopped and the ack wait passed"
    assert again.raw_message.metadata.num_delivered == 2


async def test_a_worker_that_lost_the_work_stops_beating(command_queue):
    queue = await command_queue(ACK_WAIT_S)
    msg = await queue.next(5)
    assert msg is not None
    asked = 0

    async def still_ours() -> bool:
        nonlocal asked
        asked += 1
        return False  # the lease went to another worker

    async with heartbeat(msg, BEAT_S, still_ours):
        again = await queue.next(3 * ACK_WAIT_S)
    assert again is not None and again.raw_message.metadata.num_delivered == 2
    assert asked == 1, "asked before the first beat, then no more beats"


def test_the_retry_delay_doubles_with_a_bounded_jitter():
    assert [retry_delay_s(n, 1.0, 0.0) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert [retry_delay_s(n, 1.0, 0.999999) for n in (1, 2, 3)] == [
        pytest.approx(1.0),
        pytest.approx(2.0),
        pytest.approx(4.0),
    ]
