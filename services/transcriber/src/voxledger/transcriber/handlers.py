"""Thin handlers: decode the message, load the aggregate, decide, append, ack.

The frame around each message (decode, trace, settle) is runtime/messaging.py, the log context and span of a
command runtime/commands.py: acks come last, once the effects are appended; a refused command is terminated, a
transient failure NAKed and redelivered. Transcription jobs are slow and held under a lease: the work the dispatcher (dispatch/)
hands out is routed by its type, a TranscriptionRequested to the job runner (jobs/runner.py).

A delete erases before it is recorded: the data key is destroyed first (from then on nothing sealed with
it can be read), then the live audio is purged and the blob's chunks erased (runtime/erasure.py), then RecordingDeleted is appended. Each step
is idempotent, so a crash anywhere leaves a command that is redelivered and finishes the rest.
"""

import structlog
from faststream.nats.message import NatsMessage
from nats.js import JetStreamContext
from nats.js.errors import ObjectNotFoundError

from voxledger.contracts import streams, subjects
from voxledger.contracts.commands import DeleteRecording, RecordingCommand
from voxledger.contracts.envelope import Envelope, Message
from voxledger.contracts.events import TranscriptionChunkQueued, TranscriptionRequested
from voxledger.runtime.aggregates import AggregateRepository, Loaded
from voxledger.runtime.commands import handle_command
from voxledger.runtime.consumers import heartbeat
from voxledger.runtime.erasure import erase_subject
from voxledger.runtime.messaging import TERM, Settlement
from voxledger.runtime.vault import Vault
from voxledger.transcriber.domain.recording import Recording, decide
from voxledger.transcriber.jobs.runner import TranscriptionWorker

log = structlog.get_logger(__name__)

RecordingRepository = AggregateRepository[Recording]
# Well inside the recording commands' AckWait: erasing runs at about 10 MB of audio a second (README: Erasure).
ERASE_HEARTBEAT_S = 5.0


async def handle_recording_command(
    message: Message, msg: NatsMessage, repo: RecordingRepository, js: JetStreamContext, vault: Vault
) -> None:
    async def run(cmd: RecordingCommand, cause: Envelope) -> list[Message]:
        loaded = await repo.load(cmd.recording_id)
        if isinstance(cmd, DeleteRecording):
            async with heartbeat(msg, ERASE_HEARTBEAT_S):  # a large upload's chunks take a while to erase
                await _erase(js, vault, loaded, cmd)
        return await repo.execute(loaded, cmd, cause)

    await handle_command(message, RecordingCommand, run, bind=lambda cmd: {"recording_id": cmd.recording_id})


async def handle_work(message: Message, msg: NatsMessage, worker: TranscriptionWorker) -> Settlement:
    """Work from the WORK queue, by its type; a type no handler here takes is terminated, loudly."""
    if isinstance(message.body, TranscriptionRequested | TranscriptionChunkQueued):
        return await worker.handle(message, msg)  # a job, or one chunk of a long recording's job
    log.error("work.unknown_type", type=message.envelope.type, subject=msg.raw_message.subject)
    return TERM


async def _erase(js: JetStreamContext, vault: Vault, loaded: Loaded[Recording], cmd: DeleteRecording) -> None:
    """Destroys the key, then the live audio and the blob; only for a delete the decider accepts (raises
    Rejected otherwise), and again on a redelivery: each step finds its work done."""
    decide(cmd, loaded.state)
    await vault.destroy(cmd.recording_id)
    # Live frames are sealed with the key just erased: a purge leaves only ciphertext nobody can open.
    await js.purge_stream(streams.LIVE_AUDIO.name, subject=subjects.live_audio_subject(cmd.recording_id))
    if loaded.state.blob_key:
        await _erase_blob(js, loaded.state.blob_key)
    log.info("recording.erased", blob_key=loaded.state.blob_key)


async def _erase_blob(js: JetStreamContext, blob_key: str) -> None:
    """The uploaded audio is stored as it came, not sealed: its chunks are erased from the disk one by one
    (a store delete alone purges them, leaving their bytes in the block files), then the object deleted."""
    store = await js.object_store(streams.AUDIO_BUCKET)
    try:
        info = await store.get_info(blob_key)
    except ObjectNotFoundError:
        return  # already removed by an earlier try
    chunks = await erase_subject(js, f"OBJ_{streams.AUDIO_BUCKET}", f"$O.{streams.AUDIO_BUCKET}.C.{info.nuid}")
    await store.delete(blob_key)
    log.info("blob.erased", blob_key=blob_key, chunks=chunks)
