"""Reading a KV bucket's keys without leaving consumers behind."""

from nats.js.kv import KeyValue

WATCH_INACTIVE_S = 2.0  # a scan's consumer is gone this long after the scan


async def stored_keys(bucket: KeyValue, keys: str = ">") -> list[str]:
    """The keys stored now (deleted ones left out). nats-py's `keys()` leaves its consumer on the server for
    5 minutes, one per scan, until the consumer limit is reached; a short inactivity threshold lets the
    server drop each at once."""
    watcher = await bucket.watch(keys, ignore_deletes=True, meta_only=True, inactive_threshold=WATCH_INACTIVE_S)
    try:
        found = []
        async for entry in watcher:
            if entry is None:  # the end of what is stored now
                break
            found.append(entry.key)
        return found
    finally:
        await watcher.stop()  # type: ignore[no-untyped-call]  # nats-py leaves it unannotated
