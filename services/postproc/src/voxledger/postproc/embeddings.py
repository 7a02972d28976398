"""The embedding worker: a completed transcript's passages embedded once, appended as sealed events.

Embedding runs in a thread (onnxruntime releases the GIL); the message is heartbeated meanwhile and acked
only after the events are appended, so a crash is finished by the redelivery.
"""

import asyncio
import time

import numpy as np
import structlog
from faststream.nats.message import NatsMessage

from voxledger.contracts.decisions import Rejected
from voxledger.contracts.envelope import Message
from voxledger.contracts.events import Passage, TranscriptionCompleted
from voxledger.postproc.domain.embedding import EmbeddingState, EmbedPassages, needs_embedding
from voxledger.postproc.domain.passages import passages
from voxledger.postproc.settings import PostprocSettings
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.consumers import heartbeat
from voxledger.runtime.embeddings import Embedder, shared_embedder
from voxledger.runtime.messaging import ACK, Nak, Settlement

log = structlog.get_logger(__name__)


def embed_transcript(embedder: Embedder, lines: list) -> list[Passage]:
    """The transcript's passages, each with its vector (float32 bytes)."""
    cut = passages(lines, embedder.count_tokens)
    vectors = embedder.embed([p.text for p in cut])
    return [
        Passage(
            index=p.index,
            kind=p.kind,
            start=round(p.start, 3),
            end=round(p.end, 3),
            text=p.text,
            speaker=p.speaker,
            vector=np.ascontiguousarray(v, dtype="<f4").tobytes(),
        )
        for p, v in zip(cut, vectors, strict=True)
    ]


class PassageEmbedder:
    def __init__(self, repo: AggregateRepository[EmbeddingState], settings: PostprocSettings):
        self._repo = repo
        self._settings = settings

    async def on_transcription_completed(self, message: Message, msg: NatsMessage) -> Settlement:
        job_id = message.body_as(TranscriptionCompleted).job_id
        loaded = await self._repo.load(message.envelope.aggregate_id)
        if not needs_embedding(loaded.state, job_id):
            return ACK  # embedded already, or deleted
        job = loaded.state.transcripts.jobs[job_id]
        with structlog.contextvars.bound_contextvars(recording_id=loaded.aggregate_id, job_id=job_id):
            try:
                async with heartbeat(msg, self._settings.heartbeat_s):
                    embedder = await asyncio.to_thread(shared_embedder)  # loaded once per process
                    started = time.monotonic()
                    found = await asyncio.to_thread(embed_transcript, embedder, job.lines)
                    took = time.monotonic() - started
                    command = EmbedPassages(
                        job_id=job_id, model=embedder.model_id, dimensions=embedder.dimensions, passages=found
                    )
                    await self._repo.execute(loaded, command, message.envelope)
            except Rejected as err:
                log.info("passages.not_embedded", reason=str(err))  # deleted meanwhile
                return ACK
            except Exception:
                log.exception("passages.embedding_interrupted")  # redelivery embeds again
                return Nak(self._settings.retry_base_s * 4)
            log.info("passages.embedded", passages=len(found), took_s=round(took, 3))
            return ACK
