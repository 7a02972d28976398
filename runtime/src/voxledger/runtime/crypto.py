"""Crypto-shredding: each recording's content is encrypted with a data key of its own.

- Cipher: AES-256-GCM (`cryptography`), a random 96-bit nonce per payload, associated data binding the
  ciphertext to its recording, message type and message id (contracts/sealing.py).
- Data keys: 32 random bytes per recording, created on first use, kept in the KV bucket `data_keys`
  (key = recording id), wrapped by the master key with AES-256-GCM; the value names the master key's id.
- Destroying a key deletes and purges it: the purge marker that stays holds nothing, and it stops the key
  from ever being created again (creation expects the subject to be empty), so a late writer cannot start
  a second key for a deleted recording.
- Each process caches unwrapped keys (bounded LRU) and watches the bucket: a destroyed key is dropped from
  every cache as soon as its purge is published, well before RecordingDeleted is appended.
"""

import base64
import hashlib
import os
import secrets
from pathlib import Path

import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from voxledger.contracts.decisions import Rejected
from voxledger.runtime.settings import CommonSettings

KEY_BYTES = 32
NONCE_BYTES = 12
OVERHEAD = NONCE_BYTES + 16  # nonce and GCM tag: what encryption adds to each payload
MASTER_KEY_NAME = "master-key"


class DataCipher:
    """AES-256-GCM with one key; each call draws a fresh random nonce, sent before the ciphertext."""

    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    @staticmethod
    def new_key() -> bytes:
        return AESGCM.generate_key(bit_length=KEY_BYTES * 8)

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def decrypt(self, ciphertext: bytes, aad: bytes) -> bytes:
        return self._aead.decrypt(ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], aad)


class RecordingErased(Rejected):
    """The recording's data key was destroyed: nothing can be sealed for it any more. Writers handle it as
    the decider's own refusal of a deleted recording (the code is the same)."""

    def __init__(self, message: str):
        super().__init__("recording_deleted", message)


class WrappedKey(msgspec.Struct):
    kid: str  # the master key's id
    wrapped: str  # base64 of nonce, encrypted data key, tag


def master_key_path(settings: CommonSettings) -> Path:
    return Path(settings.master_key_file or Path(settings.data_dir) / "secrets" / MASTER_KEY_NAME)


def key_id(master: bytes) -> str:
    return hashlib.sha256(master).hexdigest()[:16]


def ensure_master_key(path: Path) -> Path:
    """Creates the master key file (dir 0700, file 0600) unless it exists; returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode() + "\n")
    return path


def _write_private(path: Path, text: str) -> None:
    """Replaces the file atomically, owner-only from the start."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    tmp.replace(path)


class MasterKeys:
    """The master key file: one base64 key per line, the first is current; the others still unwrap
    data keys not yet re-wrapped by a rotation. Re-read when a value names a key id it does not know."""

    def __init__(self, path: Path):
        self.path = path
        self._keys: dict[str, AESGCM] = {}
        self._raw: list[bytes] = []  # the current key first: what `derive` makes subkeys of
        self.current = ""
        self._mtime_ns = 0
        self.reload()

    def reload(self) -> None:
        if not self.path.exists():
            raise FileNotFoundError(
                f"no master key at {self.path}: `voxledger up` creates one; elsewhere set VOXLEDGER_MASTER_KEY_FILE"
            )
        self._mtime_ns = self.path.stat().st_mtime_ns
        lines = [line.strip() for line in self.path.read_text().splitlines() if line.strip()]
        if not lines:
            raise ValueError(f"{self.path}: no master key")
        raw = [base64.b64decode(line, validate=True) for line in lines]
        if any(len(key) != KEY_BYTES for key in raw):
            raise ValueError(f"{self.path}: a master key must be {KEY_BYTES} bytes, base64")
        self._keys = {key_id(key): AESGCM(key) for key in raw}
        self._raw = raw
        self.current = key_id(raw[0])

    def derive(self, info: bytes) -> list[bytes]:
        """A 32-byte subkey of each master key for another purpose (HKDF-SHA256, `info` names it), the current
        key's first: a purpose that signs uses the first and verifies with all, so a rotation breaks nothing."""
        if self.path.stat().st_mtime_ns != self._mtime_ns:
            self.reload()
        return [HKDF(hashes.SHA256(), KEY_BYTES, salt=None, info=info).derive(key) for key in self._raw]

    def wrap(self, recording_id: str, data_key: bytes) -> bytes:
        if self.path.stat().st_mtime_ns != self._mtime_ns:
            self.reload()  # rotated since: new keys are wrapped by the new current key at once
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + self._keys[self.current].encrypt(nonce, data_key, _wrap_aad(recording_id))
        return msgspec.json.encode(WrappedKey(self.current, base64.b64encode(sealed).decode()))

    def unwrap(self, recording_id: str, value: bytes) -> tuple[bytes, str]:
        """The data key and the id of the master key that wrapped it."""
        stored = msgspec.json.decode(value, type=WrappedKey)
        if stored.kid not in self._keys:
            self.reload()  # rotated by another process since this one started
        sealed = base64.b64decode(stored.wrapped)
        master = self._keys[stored.kid]
        return master.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _wrap_aad(recording_id)), stored.kid


def _wrap_aad(recording_id: str) -> bytes:
    return f"voxledger/data-key\0{recording_id}".encode()


def rotate_master_file(path: Path) -> str:
    """Puts a new current master key first in the file, keeping the old ones; returns its id."""
    fresh = secrets.token_bytes(KEY_BYTES)
    _write_private(path, base64.b64encode(fresh).decode() + "\n" + path.read_text())
    return key_id(fresh)


def retire_old_master_keys(path: Path) -> None:
    """Keeps only the current key, once every data key is wrapped by it."""
    _write_private(path, path.read_text().splitlines()[0] + "\n")
