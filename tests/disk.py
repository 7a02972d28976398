"""What the stack's files hold, read as someone with its disk (and its master key file) would read them.

Not through JetStream's API, which hides a purged message whose bytes are still in a block file, nor through
SQL, which hides a deleted row still in a heap page or a WAL segment: every file under the data directory,
byte for byte, after PostgreSQL has written its buffers out (a checkpoint).
"""

import io
import uuid
import wave
from pathlib import Path

import asyncpg
import numpy as np
from faster_whisper import decode_audio

from voxledger.contracts.streams import AUDIO_BUCKET, DATA_KEYS_BUCKET
from voxledger.stack.secrets import PG_SUPERUSER

# The read models' tables that hold what was said or typed in a recording.
CONTENT_TABLES = ("recordings", "jobs", "segments", "passages", "insights", "live_sessions")


def unique_wav(fixture: Path) -> bytes:
    """The fixture as 16-bit PCM with a dither of its own (one step at most), so that no other upload of the
    same fixture holds any window of its bytes; it sounds the same."""
    samples = np.clip(decode_audio(str(fixture)) * 32767, -32767, 32767).astype(np.int16)
    dither = np.random.default_rng().integers(-1, 2, samples.size, dtype=np.int16)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16_000)
        wav.writeframes((samples + dither).tobytes())
    return out.getvalue()


def where_stored(root: Path, needles: dict[str, bytes]) -> dict[str, list[str]]:
    """For each needle, the files under `root` that hold it."""
    found: dict[str, list[str]] = {name: [] for name in needles}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        try:
            data = path.read_bytes()
        except (FileNotFoundError, PermissionError):
            continue  # removed meanwhile (a WAL segment, a temporary file)
        for name, needle in needles.items():
            if needle in data:
                found[name].append(str(path.relative_to(root)))
    return found


async def stored_anywhere(stack, needles: dict[str, bytes]) -> dict[str, list[str]]:
    """The needles found in any file of the stack, with PostgreSQL's buffers written out first."""
    await _checkpoint(stack)
    return {name: files for name, files in where_stored(stack.data_dir, needles).items() if files}


async def _checkpoint(stack) -> None:
    conn = await asyncpg.connect(stack.postgres.dsn(PG_SUPERUSER))
    try:
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def row_files_holding(stack, recording_id: str) -> list[str]:
    """The files of the tables that held the recording's content (and of their indexes and TOAST) that still
    hold its id, as PostgreSQL stores a uuid: 16 bytes."""
    conn = await asyncpg.connect(stack.postgres.dsn(PG_SUPERUSER))
    try:
        await conn.execute("CHECKPOINT")
        rows = await conn.fetch(
            """SELECT pg_relation_filepath(c.oid) AS path FROM pg_class c
                WHERE c.oid = ANY($1::regclass[])
                   OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY($1::regclass[]))
                   OR c.oid IN (SELECT reltoastrelid FROM pg_class WHERE oid = ANY($1::regclass[]))""",
            list(CONTENT_TABLES),
        )
    finally:
        await conn.close()
    needle = uuid.UUID(recording_id).bytes
    held = []
    for first in (stack.postgres.pgdata / r["path"] for r in rows if r["path"]):
        # the relation's 1 GB segments (16384.1, ...), its free space and visibility maps (16384_fsm, ...)
        forks = (f for f in first.parent.iterdir() if f.name.partition(".")[0].partition("_")[0] == first.name)
        for segment in sorted(forks):
            if needle in segment.read_bytes():
                held.append(str(segment.relative_to(stack.postgres.pgdata)))
    return held


async def stored_key_and_audio(nc, recording_id: str) -> tuple[bytes, bytes]:
    """The recording's data key as its bucket stores it (wrapped by the master key), and 64 bytes from the
    middle of its audio as the object store keeps them (`nc`: a connection as `provision`)."""
    js = nc.jetstream()
    key = (await (await js.key_value(DATA_KEYS_BUCKET)).get(recording_id)).value or b""
    audio = (await (await js.object_store(AUDIO_BUCKET)).get(f"recordings/{recording_id}")).data or b""
    return key, audio[len(audio) // 2 :][:64]
