"""Deleting stored messages so that their bytes are gone from the disk, not only from the stream's index.

JetStream's purge (and a rollup, and a work queue's ack) drops messages from the index and leaves their bytes
in the block files until the block is compacted away, which may be never. Its message delete, asked for one
sequence without `no_erase`, overwrites the message's bytes in the block (nats-server's `eraseMsg`): so the
data key of a deleted recording and its uploaded audio are deleted sequence by sequence, here.
"""

from collections.abc import AsyncIterator

from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import NotFoundError


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


async def erase_subject(js: JetStreamContext, stream: str, subject: str) -> int:
    """Erases every message of `subject` in `stream`; how many there were."""
    erased = 0
    async for found in stored(js, stream, subject):
        assert found.seq is not None
        await js.delete_msg(stream, found.seq)  # without `no_erase`: the server overwrites the bytes
        erased += 1
    return erased


def key_value_stream(bucket: str, replicas: int) -> js_api.StreamConfig:
    """A KV bucket's stream as nats-py makes it (history 1), except that it allows message deletes, which
    `erase_subject` needs: nats-server never lets a stream's `deny_delete` be turned off afterwards."""
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
        max_msgs_per_subject=1,
        num_replicas=replicas,
        storage=js_api.StorageType.FILE,
    )
