"""The session's audio frames in JetStream (LIVE_AUDIO): followed as they come, saved as the recording, purged."""

import hashlib
import tempfile
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from voxledger.contracts import subjects
from voxledger.contracts.live import FINALIZE_KIND, FRAME_KIND, KIND_HEADER, OFFSET_HEADER, LiveSessionSpec
from voxledger.contracts.streams import AUDIO_BUCKET, LIVE_AUDIO
from voxledger.runtime import feeds
from voxledger.runtime.vault import Vault
from voxledger.transcriber.live.domain.samples import SAMPLE_RATE, to_samples


def is_end(msg: Msg) -> bool:
    return (msg.headers or {}).get(KIND_HEADER) == "end"


def is_finalize(msg: Msg) -> bool:
    """The client asked for what was heard so far to be final now (a marker, no audio)."""
    return (msg.headers or {}).get(KIND_HEADER) == FINALIZE_KIND


async def opened(vault: Vault, session_id: str, msg: Msg) -> Msg:
    """The frame with its audio in clear (none once the session's key is destroyed: it was deleted)."""
    if not is_end(msg) and not is_finalize(msg):
        part = (msg.headers or {}).get(OFFSET_HEADER, "0")
        msg.data = await vault.open_bytes(session_id, FRAME_KIND, part, msg.data, msg.headers) or b""
    return msg


async def follow(
    js: JetStreamContext, vault: Vault, session_id: str, on_message: Callable[[Msg], Awaitable[None]]
) -> JetStreamContext.PushSubscription:
    """Every frame of the session from the first, then new ones as they come, to `on_message`."""

    async def on_frame(msg: Msg) -> None:
        await on_message(await opened(vault, session_id, msg))

    return await feeds.follow(js, subjects.live_audio_subject(session_id), on_frame)


async def _frames(js: JetStreamContext, vault: Vault, session_id: str) -> AsyncIterator[Msg]:
    """The session's stored frames up to its end marker (or the last one stored)."""
    async with feeds.stored(js, subjects.live_audio_subject(session_id), timeout_s=5, quiet_ends=True) as frames:
        async for msg in frames:
            if is_end(msg):
                return
            if not is_finalize(msg):
                yield await opened(vault, session_id, msg)


async def save_recording(
    js: JetStreamContext, vault: Vault, session_id: str, spec: LiveSessionSpec
) -> tuple[str, str, int, float]:
    """The session's whole audio as a 16 kHz WAV in the audio bucket, like an upload: (key, digest, size, seconds)."""
    blob_key = f"recordings/{session_id}"
    with tempfile.TemporaryDirectory(prefix="voxledger-live-") as workdir:
        path = Path(workdir) / "session.wav"
        samples = 0
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            async for msg in _frames(js, vault, session_id):
                chunk = to_samples(msg.data, spec.encoding, spec.sample_rate)
                out.writeframes((chunk * 32767).astype("<i2").tobytes())
                samples += len(chunk)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        store = await js.object_store(AUDIO_BUCKET)
        with path.open("rb") as f:
            await store.put(blob_key, f)
        return blob_key, f"sha256:{digest}", path.stat().st_size, round(samples / SAMPLE_RATE, 3)


async def purge(js: JetStreamContext, session_id: str) -> None:
    """The saved recording now holds the audio; the frames are no longer needed."""
    await js.purge_stream(LIVE_AUDIO.name, subject=subjects.live_audio_subject(session_id))
