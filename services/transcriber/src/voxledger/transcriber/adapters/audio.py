"""Audio in: fetch the blob from the Object Store and decode it to 16 kHz mono float32.

Decode problems are permanent failures with a specific code; they are never retried. FFmpeg only
sees an allow-listed container, with its demuxer forced and local file access only (domain/media.py).
"""

import asyncio
import gc
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import av
import nats
import numpy as np
from nats.js import JetStreamContext

from voxledger.contracts.streams import AUDIO_BUCKET
from voxledger.runtime.broker import BROKER_PATIENCE_S, with_broker_retry
from voxledger.transcriber.domain import media
from voxledger.transcriber.domain.media import AudioError

SAMPLE_RATE = 16_000
DOWNLOAD_FLOOR_S = 30.0
DOWNLOAD_MIN_RATE = 5 * 2**20  # bytes per second; slower than this, a download counts as stalled
OGG_PAGE_HEADER = 27
OGG_END_OF_STREAM = 0x04
_BIT_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


__all__ = ["SAMPLE_RATE", "AudioError", "decode", "decode_window", "decode_windows", "fetch_blob", "probe_duration"]


async def fetch_blob(js: JetStreamContext, blob_key: str, workdir: Path) -> Path:
    """Streams the object to a temporary file; large recordings never sit whole in memory twice.

    A broker restart or a stall starts the download again instead of costing the job an attempt.
    """
    handle = tempfile.NamedTemporaryFile(dir=workdir, delete=False, suffix=".audio")  # noqa: SIM115
    handle.close()
    path = Path(handle.name)

    async def download() -> None:
        store = await js.object_store(AUDIO_BUCKET)
        size = (await store.get_info(blob_key)).size or 0
        with path.open("wb") as out:
            try:
                await asyncio.wait_for(store.get(blob_key, writeinto=out), DOWNLOAD_FLOOR_S + size / DOWNLOAD_MIN_RATE)
            except TimeoutError as stalled:
                # The read waits for chunks forever; if the object was replaced meanwhile (its old chunks
                # purged) or the broker went away, they never come: start over instead of hanging the job.
                raise nats.errors.TimeoutError from stalled

    await with_broker_retry(download, f"fetch {blob_key}", BROKER_PATIENCE_S)
    return path


def decode(
    path: Path,
    offset_s: float = 0.0,
    max_duration_s: float = float("inf"),
    interrupt: Callable[[], None] | None = None,
) -> tuple[np.ndarray, float]:
    """Samples from `offset_s` on, and the full duration in seconds.

    Audio longer than `max_duration_s` is refused: by its declared length before decoding,
    and by the decoded length while decoding, so memory stays bounded either way. `interrupt` is called
    between decoded frames: whatever it raises ends the decode (a stopped job's work).
    """
    max_samples = max_duration_s * SAMPLE_RATE
    decoded = 0
    chunks: list[np.ndarray] = []
    with _decoder(path, max_duration_s) as (container, stream):
        for _, pcm in _pcm(container, stream, flush=True):
            if interrupt is not None:
                interrupt()
            chunks.append(pcm)
            decoded += len(pcm)
            if decoded > max_samples:
                raise _too_long(decoded / SAMPLE_RATE, max_duration_s)
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    chunks.clear()  # the pieces go before the float copy is made: two copies at most, never three
    duration_s = len(samples) / SAMPLE_RATE
    if duration_s == 0:
        raise AudioError("audio_empty", "the file contains no audio samples")
    out = samples[int(offset_s * SAMPLE_RATE) :].astype(np.float32)
    del samples
    out /= 32768.0  # in place: no second float copy
    return out, duration_s


def _audio_stream(container: "av.container.InputContainer", max_duration_s: float) -> "av.audio.AudioStream":
    """The first audio stream, once its declared length, codec and parameters pass the checks."""
    if not container.streams.audio:
        raise AudioError("no_audio_stream", "the file has no audio stream")
    stream = container.streams.audio[0]
    declared_s = container.duration / av.time_base if container.duration else 0.0
    if declared_s > max_duration_s:
        raise _too_long(declared_s, max_duration_s)
    media.check_codec(stream.codec_context.name)
    media.check_parameters(stream.codec_context.sample_rate, stream.codec_context.channels)
    return stream


def probe_duration(path: Path, max_duration_s: float = float("inf")) -> float:
    """The length in seconds: as the container declares it, else counted while decoding, keeping nothing."""
    container = _open(path)
    with container:
        stream = _audio_stream(container, max_duration_s)
        if container.duration:
            return container.duration / av.time_base
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        samples = 0
        for packet in container.demux(stream):
            for frame in packet.decode():
                samples += frame.samples
                if samples / stream.codec_context.sample_rate > max_duration_s:
                    raise _too_long(samples / stream.codec_context.sample_rate, max_duration_s)
        return samples / stream.codec_context.sample_rate


def decode_window(path: Path, start_s: float, end_s: float) -> np.ndarray:
    """The samples of [start_s, end_s) only: the demuxer seeks to the window, and decoding stops after it,
    so memory is bounded by the window whatever the file's length."""
    return decode_windows(path, [(start_s, end_s)])[0]


def decode_windows(path: Path, windows: Sequence[tuple[float, float]]) -> list[np.ndarray]:
    """Each window's samples, as `decode_window` gives them, from one opening of the file."""
    with _decoder(path, float("inf")) as (container, stream):
        # A window at 0 is sought too once an earlier one has moved the demuxer on.
        return [_window(container, stream, a, b, seek=a > 0 or i > 0) for i, (a, b) in enumerate(windows)]


def _window(
    container: "av.container.InputContainer", stream: "av.audio.AudioStream", start_s: float, end_s: float, seek: bool
) -> np.ndarray:
    if seek and stream.time_base:
        container.seek(int(start_s / stream.time_base), stream=stream, backward=True, any_frame=False)
    chunks: list[np.ndarray] = []
    first_s: float | None = None
    decoded = 0
    for frame_s, pcm in _pcm(container, stream, flush=False):
        if first_s is None:  # where the seek landed: at or before the window
            first_s = frame_s if frame_s is not None else start_s
        chunks.append(pcm)
        decoded += len(pcm)
        if first_s + decoded / SAMPLE_RATE >= end_s:
            break
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    skip = max(round(((start_s - first_s) if first_s is not None else 0.0) * SAMPLE_RATE), 0)
    return samples[skip : skip + round((end_s - start_s) * SAMPLE_RATE)].astype(np.float32) / 32768.0


@contextmanager
def _decoder(
    path: Path, max_duration_s: float
) -> Iterator[tuple["av.container.InputContainer", "av.audio.AudioStream"]]:
    """The opened file and its checked audio stream; the decoders' native buffers are freed on the way out."""
    try:
        with _open(path) as container:
            yield container, _audio_stream(container, max_duration_s)
    finally:
        gc.collect()  # PyAV's resampler holds native buffers until collected: once per opening, not per window


def _pcm(
    container: "av.container.InputContainer", stream: "av.audio.AudioStream", *, flush: bool
) -> Iterator[tuple[float | None, np.ndarray]]:
    """(the decoded frame's time, its samples as 16 kHz mono int16) from where the demuxer stands, in order;
    with `flush`, the resampler's last samples at the end. Damaged input raises AudioError."""
    resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    try:
        for packet in container.demux(stream):
            # FFmpeg decodes damaged or cut-off input quietly; the demuxer's flag is the signal.
            if packet.is_corrupt:
                raise AudioError("audio_corrupt", "the audio stream is damaged or cut off")
            for frame in packet.decode():
                frame_s = float(frame.time) if frame.time is not None else None
                for out in resampler.resample(frame):
                    yield frame_s, out.to_ndarray().reshape(-1)
        if flush:
            for out in resampler.resample(None):
                yield None, out.to_ndarray().reshape(-1)
    except av.error.FFmpegError as err:
        raise AudioError("audio_corrupt", f"the audio stream is damaged: {err}") from None


def _open(path: Path) -> "av.container.InputContainer":
    """The file as FFmpeg input, after the checks that need no FFmpeg: allow-listed container, sane header."""
    if path.stat().st_size == 0:
        raise AudioError("audio_empty", "the file is empty")
    with path.open("rb") as f:
        head = f.read(media.HEAD_BYTES)
    container = media.container_of(head)
    if container == media.WAV and (declared := media.wav_format(head)) is not None:
        media.check_parameters(declared[1], declared[0])
    _check_riff_length(path)
    _check_ogg_pages(path)
    # The demuxer is forced (no probing) and only local files may be opened: no playlist, no network.
    options = {"protocol_whitelist": "file", "format_whitelist": container.demuxer}
    try:
        return av.open(str(path), mode="r", format=container.demuxer, options=options, metadata_errors="ignore")
    except av.error.FFmpegError as err:
        raise AudioError("audio_undecodable", f"not a decodable {container.name} file: {err}") from None


def _too_long(duration_s: float, limit_s: float) -> AudioError:
    return AudioError("audio_too_long", f"the audio lasts {duration_s:.0f} s; the limit is {limit_s:.0f} s")


def _check_riff_length(path: Path) -> None:
    """A WAV whose header promises more bytes than the file holds was cut off in transfer."""
    with path.open("rb") as f:
        header = f.read(12)
    if len(header) == 12 and header[:4] == b"RIFF" and header[8:12] == b"WAVE":
        declared = int.from_bytes(header[4:8], "little") + 8
        actual = path.stat().st_size
        if declared > actual:
            raise AudioError(
                "audio_truncated", f"the WAV header declares {declared} bytes but the file has only {actual}"
            )


def _check_ogg_pages(path: Path) -> None:
    """Every Ogg page carries a checksum and the last one ends the stream. FFmpeg skips a damaged page
    quietly and stops at a cut, so without this the job would complete with a silent gap."""
    with path.open("rb") as f:
        if f.read(4) != b"OggS":
            return
        f.seek(0)
        offset, flags = 0, 0
        while header := f.read(OGG_PAGE_HEADER):
            if len(header) == OGG_PAGE_HEADER and header[:4] != b"OggS":
                raise AudioError("audio_corrupt", f"the Ogg stream is damaged at byte {offset}")
            lacing = f.read(header[26]) if len(header) == OGG_PAGE_HEADER else b""
            body = f.read(sum(lacing))
            if len(header) < OGG_PAGE_HEADER or len(lacing) < header[26] or len(body) < sum(lacing):
                raise AudioError("audio_truncated", f"the Ogg stream is cut off in the page at byte {offset}")
            checksum = int.from_bytes(header[22:26], "little")
            if _ogg_crc(header[:22] + bytes(4) + header[26:] + lacing + body) != checksum:
                raise AudioError("audio_corrupt", f"the Ogg page at byte {offset} fails its checksum")
            offset, flags = offset + len(header) + len(lacing) + len(body), header[5]
    if not flags & OGG_END_OF_STREAM:
        raise AudioError("audio_truncated", "the Ogg stream ends without its end-of-stream page")


def _ogg_crc(page: bytes) -> int:
    """Ogg's CRC-32 (polynomial 04C11DB7, unreflected, no initial or final xor), computed in C by zlib's
    reflected CRC-32 over the bit-reversed bytes, with zlib's xors cancelled."""
    register = zlib.crc32(page.translate(_BIT_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{register:032b}"[::-1], 2)
