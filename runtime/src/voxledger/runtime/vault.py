"""The data keys of recordings, in the KV bucket `data_keys`, and the codec that seals and opens with them.

Every service encodes and decodes recording messages through one Vault (see runtime/crypto.py for the
scheme). `encode` creates a recording's key on first use; `decode` of a message whose key is gone gives an
erased message (its sensitive fields blank), never an error: the recording was deleted.
"""

import asyncio
import contextlib
from collections.abc import Iterable
from functools import partial

import cachetools
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.errors import APIError, BadRequestError, KeyNotFoundError, KeyWrongLastSequenceError, NoKeysError
from nats.js.kv import KeyValue

from voxledger.contracts import envelope, sealing, streams
from voxledger.contracts.envelope import Message
from voxledger.contracts.live import SEALED_HEADER
from voxledger.runtime.broker import BROKER_PATIENCE_S, with_broker_retry
from voxledger.runtime.crypto import DataCipher, MasterKeys, RecordingErased, master_key_path
from voxledger.runtime.erasure import erase_sequence, erase_subject
from voxledger.runtime.eventstore import WRONG_LAST_SEQUENCE
from voxledger.runtime.logging import get_logger
from voxledger.runtime.settings import CommonSettings

log = get_logger(__name__)

CACHE_SIZE = 4096
KV_OPERATION = "KV-Operation"


def _subject(recording_id: str) -> str:
    return f"$KV.{streams.DATA_KEYS_BUCKET}.{recording_id}"


class Vault:
    def __init__(self, nc: Client, master: MasterKeys | None, cache_size: int = CACHE_SIZE):
        """`master` None: encryption is off (benchmarks only); messages are written in clear, and sealed
        ones still cannot be read."""
        self._nc, self._js = nc, nc.jetstream()
        self._master = master
        self._cache: cachetools.LRUCache[str, DataCipher | None] = cachetools.LRUCache(cache_size)
        self._destroyed: cachetools.LRUCache[str, bool] = cachetools.LRUCache(cache_size)
        self._watch: Subscription | None = None
        self._kv: KeyValue | None = None

    @property
    def sealing(self) -> bool:
        return self._master is not None

    async def start(self) -> "Vault":
        """Watches the bucket, so a key destroyed anywhere is dropped from this process's cache at once."""
        self._watch = await self._nc.subscribe(f"$KV.{streams.DATA_KEYS_BUCKET}.>", cb=self._on_change)
        return self

    async def stop(self) -> None:
        if self._watch is not None:
            with contextlib.suppress(Exception):
                await self._watch.unsubscribe()

    async def _on_change(self, msg: Msg) -> None:
        if (msg.headers or {}).get(KV_OPERATION) in ("DEL", "PURGE"):
            self._forget(msg.subject.rsplit(".", 1)[-1])

    def _forget(self, recording_id: str) -> None:
        self._destroyed[recording_id] = True
        self._cache[recording_id] = None

    async def _bucket(self) -> KeyValue:
        if self._kv is None:  # its stream's info, which a leader election holds up: ridden out, not raised
            bucket = partial(self._js.key_value, streams.DATA_KEYS_BUCKET)
            self._kv = await with_broker_retry(bucket, "open the data-keys bucket", BROKER_PATIENCE_S)
        return self._kv

    async def cipher(self, recording_id: str, *, create: bool = False) -> DataCipher | None:
        """The recording's cipher; None if it has none (destroyed, or never created and `create` is off)."""
        if (cached := self._cache.get(recording_id)) is not None or recording_id in self._destroyed:
            return cached
        found = await self._load(recording_id)
        if found is None and create and recording_id not in self._destroyed:
            found = await self._create(recording_id)
        if found is not None and recording_id not in self._destroyed:
            self._cache[recording_id] = found
        return None if recording_id in self._destroyed else found

    async def _load(self, recording_id: str) -> DataCipher | None:
        if self._master is None:
            return None
        try:
            entry = await (await self._bucket()).get(recording_id)
        except KeyNotFoundError as err:
            if err.op is not None:  # a delete or purge marker: destroyed
                self._forget(recording_id)
            return None
        if not entry.value:
            self._forget(recording_id)
            return None
        return DataCipher(self._master.unwrap(recording_id, entry.value)[0])

    async def _create(self, recording_id: str) -> DataCipher | None:
        """A fresh key, unless the subject has anything (a key, or the purge marker of a destroyed one)."""
        assert self._master is not None
        data_key = DataCipher.new_key()
        headers = {"Nats-Expected-Last-Subject-Sequence": "0"}
        try:
            await self._js.publish(_subject(recording_id), self._master.wrap(recording_id, data_key), headers=headers)
        except (APIError, BadRequestError) as err:
            if err.err_code != WRONG_LAST_SEQUENCE:
                raise
            return await self._load(recording_id)  # another process created it first, or it was destroyed
        return DataCipher(data_key)

    async def erased(self, recording_id: str) -> bool:
        """Whether the recording was deleted; otherwise its key exists from now on (created if need be)."""
        return self.sealing and await self.cipher(recording_id, create=True) is None

    async def ciphers(self, recording_ids: Iterable[str]) -> dict[str, DataCipher | None]:
        """Several recordings' ciphers; those not cached are fetched concurrently."""
        unique = list(set(recording_ids))
        return dict(zip(unique, await asyncio.gather(*(self.cipher(rid) for rid in unique)), strict=True))

    async def encode(self, message: Message) -> bytes:
        """The message as bytes, its sensitive fields sealed with the recording's key (created if needed)."""
        env = message.envelope
        if not self.sealing or not envelope.needs_key(env):
            return envelope.encode(message)
        cipher = await self.cipher(env.aggregate_id, create=True)
        if cipher is None:
            raise RecordingErased(f"recording {env.aggregate_id} was deleted: {env.type} not written")
        return envelope.encode(message, cipher)

    async def decode(self, payload: bytes) -> Message:
        env = envelope.decode_envelope(payload)
        if not envelope.needs_key(env):
            return envelope.decode(payload)
        cipher = await self.cipher(env.aggregate_id)
        return envelope.decode(payload, lambda _: cipher)

    async def seal_bytes(self, recording_id: str, kind: str, part: str, data: bytes) -> tuple[bytes, dict[str, str]]:
        """A payload that is not an event (a live frame, an interim) sealed, and the header that says so."""
        if not self.sealing:
            return data, {}
        cipher = await self.cipher(recording_id, create=True)
        if cipher is None:
            raise RecordingErased(f"recording {recording_id} was deleted: {kind} not written")
        return cipher.encrypt(data, sealing.associated_data(recording_id, kind, part)), {SEALED_HEADER: "1"}

    async def open_bytes(
        self, recording_id: str, kind: str, part: str, data: bytes, headers: dict[str, str] | None
    ) -> bytes | None:
        """The payload in clear; None when it is sealed and its key is gone."""
        if not (headers or {}).get(SEALED_HEADER):
            return data
        cipher = await self.cipher(recording_id)
        return None if cipher is None else cipher.decrypt(data, sealing.associated_data(recording_id, kind, part))

    async def destroy(self, recording_id: str) -> None:
        """Erases the key from the disk (runtime/erasure.py), then leaves a purge marker, which holds no key
        material and keeps the key from being created again. The marker expects the subject empty: a key
        created between the erase and the marker is erased on the next round."""
        self._forget(recording_id)
        stream, subject = f"KV_{streams.DATA_KEYS_BUCKET}", _subject(recording_id)
        marker = {KV_OPERATION: "PURGE", "Nats-Rollup": "sub", "Nats-Expected-Last-Subject-Sequence": "0"}
        while True:
            await erase_subject(self._js, stream, subject)
            try:
                await self._js.publish(subject, b"", headers=marker)
                break
            except (APIError, BadRequestError) as err:
                if err.err_code != WRONG_LAST_SEQUENCE:
                    raise
        log.info("data_key.destroyed", recording_id=recording_id)


async def rewrap_data_keys(js: JetStreamContext, master: MasterKeys) -> tuple[int, int]:
    """Re-wraps every data key not yet wrapped by the current master key: (re-wrapped, already current).
    Each update expects the revision it read, so a key destroyed meanwhile stays destroyed; the revision it
    replaced is then erased, so no copy wrapped by an older master key stays on the disk."""
    kv = await js.key_value(streams.DATA_KEYS_BUCKET)
    try:
        recording_ids = await kv.keys()
    except NoKeysError:
        return 0, 0
    rewrapped = current = 0
    for recording_id in recording_ids:
        try:
            entry = await kv.get(recording_id)
        except KeyNotFoundError:
            continue  # destroyed since the listing
        if not entry.value or entry.revision is None:
            continue
        data_key, kid = master.unwrap(recording_id, entry.value)
        if kid == master.current:
            current += 1
            continue
        with contextlib.suppress(KeyWrongLastSequenceError):
            await kv.update(recording_id, master.wrap(recording_id, data_key), last=entry.revision)
            await erase_sequence(js, f"KV_{streams.DATA_KEYS_BUCKET}", entry.revision)
            rewrapped += 1
    return rewrapped, current


async def open_vault(nc: Client, settings: CommonSettings) -> Vault:
    """The process's vault, watching for destroyed keys; encryption off only where settings say so."""
    master = MasterKeys(master_key_path(settings)) if settings.encryption else None
    return await Vault(nc, master).start()
