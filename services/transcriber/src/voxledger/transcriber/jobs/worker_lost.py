"""A job JetStream gave up redelivering (its last worker died) ends as failed instead of hanging."""

import contextlib

import msgspec
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from voxledger.contracts import sealing, streams
from voxledger.contracts.decisions import Rejected
from voxledger.contracts.envelope import decode as envelope_decode
from voxledger.contracts.events import TranscriptionChunkQueued, TranscriptionRequested
from voxledger.contracts.failures import public_message
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.transcriber.domain.recording import Fail, Recording

log = structlog.get_logger(__name__)


async def record_worker_lost(
    js: JetStreamContext, repo: AggregateRepository[Recording], deliveries: int, advisory: Msg
) -> None:
    """JetStream gave up redelivering a job (its last worker died): end it as failed instead of hanging."""
    seq = msgspec.json.decode(advisory.data)["stream_seq"]
    try:
        # only its ids count here: its sealed options (prompt, hotwords) are not opened
        spent = (await js.get_msg(streams.WORK.name, seq)).data or b""
        message = envelope_decode(spent, sealing.without_content)
        request = message.body
        if not isinstance(request, TranscriptionRequested | TranscriptionChunkQueued):
            raise TypeError(f"not a job or a chunk: {message.envelope.type}")
        loaded = await repo.load(message.envelope.aggregate_id)
        failed = Fail(job_id=request.job_id, error_code="worker_lost", message=public_message("worker_lost"))
        await repo.execute(loaded, failed, message.envelope)
        log.warning(
            "job.failed_worker_lost",
            job_id=request.job_id,
            recording_id=loaded.aggregate_id,
            deliveries=deliveries,
        )
    except Rejected:
        pass  # already settled, or another worker recorded it first
    except Exception:
        log.exception("job.max_deliveries_not_recorded", stream_seq=seq)
        return
    # A work queue keeps what is never acked: remove the spent work once its end is recorded.
    with contextlib.suppress(Exception):
        await js.delete_msg(streams.WORK.name, seq)
