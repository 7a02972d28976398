"""Thin handlers: decode the message, load the aggregate, decide, append, ack.

Acks come last, once the effects are appended. A refused command is terminated; a transient
failure is NAKed and redelivered. Transcription jobs are slow and held under a lease: their
subscriber hands them to the job runner (jobs/runner.py).
"""

import structlog
from faststream.nats.message import NatsMessage
from nats.js import JetStreamContext
from nats.js.errors import ObjectNotFoundError
from opentelemetry import trace

from voxledger.contracts import streams
from voxledger.contracts.commands import DeleteRecording, RecordingCommand
from voxledger.contracts.decisions import Rejected
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.consumers import decode_or_reject
from voxledger.runtime.telemetry import context_from_traceparent
from voxledger.transcriber.domain.recording import Recording

log = structlog.get_logger(__name__)
tracer = trace.get_tracer("voxledger.transcriber")

RecordingRepository = AggregateRepository[Recording]


async def handle_recording_command(msg: NatsMessage, repo: RecordingRepository, js: JetStreamContext) -> None:
    if (message := await decode_or_reject(msg)) is None:
        return
    cmd = message.body
    if not isinstance(cmd, RecordingCommand):  # the consumer's filter admits recording commands only
        raise TypeError(f"not a recording command: {message.envelope.type}")
    context = {"recording_id": cmd.recording_id, "tenant": message.envelope.tenant_id}
    with (
        structlog.contextvars.bound_contextvars(**context),
        tracer.start_as_current_span(
            f"handle {message.envelope.type}", context=context_from_traceparent(message.envelope.traceparent)
        ),
    ):
        try:
            loaded = await repo.load(cmd.recording_id)
            appended = await repo.execute(loaded, cmd, message.envelope)
        except Rejected as err:
            log.warning("command.rejected", type=message.envelope.type, code=err.code, reason=err.message)
            await msg.reject()
            return
        except Exception:
            log.exception("command.failed_transiently")
            await msg.nack(delay=1.0)
            return
        log.info("command.handled", type=message.envelope.type, events=[m.envelope.type for m in appended])
        if isinstance(cmd, DeleteRecording) and not await _remove_audio(js, loaded.state.blob_key):
            await msg.nack(delay=1.0)  # redelivered: the decider adds nothing, the removal is tried again
            return
        await msg.ack()


async def _remove_audio(js: JetStreamContext, blob_key: str) -> bool:
    """After RecordingDeleted is appended, the audio goes too; already gone counts as removed."""
    try:
        store = await js.object_store(streams.AUDIO_BUCKET)
        await store.delete(blob_key)
    except ObjectNotFoundError:
        pass
    except Exception:
        log.exception("recording.audio_not_removed", blob_key=blob_key)
        return False
    log.info("recording.audio_removed", blob_key=blob_key)
    return True
