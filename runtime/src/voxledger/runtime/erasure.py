"""Deleting stored messages so that their bytes are gone from the disk, not only from the stream's index.

JetStream's purge (and a rollup, and a work queue's ack) drops messages from the index and leaves their bytes
in the block files until the block is compacted away, which may be never. Its message delete, asked for one
sequence without `no_erase`, overwrites the message's bytes in the block (nats-server's `eraseMsg`): so the
data key of a deleted recording and its uploaded audio are deleted sequence by sequence, here.
"""

from collections.abc import AsyncIterator

from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import APIError, NotFoundError

# nats-server's answer to a delete of a sequence that holds no message (any more).
MESSAGE_NOT_FOUND = 10057


async def stored(js: JetStreamContext, stream: str, subject: str) -> AsyncIterator[js_api.RawStreamMsg]:
    """Every message of `subject` (a filter) in `stream`, oldest first, one stored-message get each."""
    cursor = 1
    while True:
        try:
            found = await js.get_msg(stream, seq=cursor, subject=subject, next=True)
        except NotFoundError:
            return
        yield found
        cursor = (found.seq or cursor) + 1


async def erase_sequence(js: JetStreamContext, stream: str, seq: int) -> bool:
    """Erases one message; False if there was none (erased meanwhile by another try of the same work)."""
    try:
        await js.delete_msg(stream, seq)  # without `no_erase`: the server overwrites the bytes
    except APIError as err:
        if err.err_code != MESSAGE_NOT_FOUND:
            raise
        return False
    return True


async def erase_subject(js: JetStreamContext, stream: str, subject: str) -> int:
    """Erases every message of `subject` in `stream`; how many there were."""
    erased = 0
    async for found in stored(js, stream, subject):
        assert found.seq is not None
        erased += await erase_sequence(js, stream, found.seq)
    return erased


def key_value_stream(bucket: str, replicas: int, history: int) -> js_api.StreamConfig:
    """A KV bucket's stream as nats-py makes it, except that it allows message deletes, which erasing
    needs: nats-server never lets a stream's `deny_delete` be turned off afterwards."""
    return js_api.StreamConfig(
        name=f"KV_{bucket}",
        subjects=[f"$KV.{bucket}.>"],
        allow_direct=False,
        allow_rollup_hdrs=True,
        deny_delete=False,
        discard=js_api.DiscardPolicy.NEW,
        duplicate_window=120,
        max_consumers=-1,
        max_msgs=-1,
        max_msgs_per_subject=history,
        num_replicas=replicas,
        storage=js_api.StorageType.FILE,
    )
