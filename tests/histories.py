"""Realistic recording histories built from the real contracts, for tests and benchmarks.

Each history is what the services would have appended for one recording: upload,
transcription jobs with progress, segment batches and an end (completed, failed
after retries, cancelled), passages for asking, re-transcriptions, insight runs, and deletions.
"""

import asyncio
import random
import struct
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext

from voxledger.contracts import envelope, subjects
from voxledger.contracts import events as ev
from voxledger.contracts import insights as ins
from voxledger.contracts.envelope import Message
from voxledger.contracts.ids import new_id

WORDS = [
    "budget",
    "quarter",
    "customer",
    "contract",
    "design",
    "support",
    "report",
    "travel",
    "hiring",
    "training",
    "office",
    "product",
    "team",
    "sales",
    "marketing",
    "release",
    "testing",
    "security",
    "invoice",
    "partner",
    "supplier",
    "warehouse",
    "delivery",
    "meeting",
    "schedule",
    "roadmap",
    "pricing",
    "feedback",
    "onboarding",
    "dashboard",
    "migration",
    "backlog",
    "review",
    "agreement",
    "revenue",
    "forecast",
]
T0 = datetime(2025, 1, 1, tzinfo=UTC)


class History:
    """One recording's events, in order, with the clock they were sealed at."""

    def __init__(self, tenant: str, recording_id: str, at: datetime):
        self.tenant = tenant
        self.recording_id = recording_id
        self.at = at
        self.messages: list[Message] = []

    def add(self, body: ev.Event) -> None:
        self.at += timedelta(milliseconds=250)
        self.messages.append(
            envelope.seal(body, aggregate_id=self.recording_id, tenant_id=self.tenant, occurred_at=self.at)
        )


def sentence(rng: random.Random, vocabulary: list[str] | None = None, weights: list[float] | None = None) -> str:
    words = rng.choices(vocabulary or WORDS, weights=weights, k=rng.randint(6, 14))
    return " ".join(words).capitalize() + "."


def zipf_vocabulary(size: int, seed: int = 1) -> tuple[list[str], list[float]]:
    """Pseudo-words with natural-language word frequencies (rank r is seen about 1/r as often)."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "da", "pe", "zu", "ro", "fa", "gi", "ho", "tu"]
    words = sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(size * 2)})[:size]
    rng.shuffle(words)
    return words, [1 / rank for rank in range(1, len(words) + 1)]


def _job(h: History, rng: random.Random, outcome: str, segments: int, progress: int, text) -> None:
    job_id = new_id()
    h.add(ev.TranscriptionRequested(job_id=job_id, options=ev.TranscriptionOptions(language="en")))
    if outcome == "cancelled_queued":
        h.add(ev.TranscriptionCancelRequested(job_id=job_id))
        h.add(ev.TranscriptionCancelled(job_id=job_id))
        return
    attempt = 1
    h.add(ev.TranscriptionStarted(job_id=job_id, attempt=attempt, worker="w-1", model="tiny.en"))
    if outcome in ("retried", "failed"):
        retry_at = (h.at + timedelta(seconds=2)).isoformat()
        h.add(
            ev.TranscriptionAttemptFailed(
                job_id=job_id, attempt=1, error_code="internal_error", message="oom", retry_at=retry_at
            )
        )
        if outcome == "failed":
            h.add(ev.TranscriptionFailed(job_id=job_id, error_code="internal_error", message="gave up"))
            return
        attempt = 2
        h.add(ev.TranscriptionStarted(job_id=job_id, attempt=attempt, worker="w-2", model="tiny.en"))
    index, clock = 0, 0.0
    for step in range(progress):
        h.add(
            ev.TranscriptionProgressed(
                job_id=job_id,
                stage="transcribing",
                progress=round(step / progress, 3),
                processed_s=clock,
                eta_s=float(progress - step),
            )
        )
        batch = []
        for _ in range(segments // progress):
            length = round(rng.uniform(1.5, 6.0), 2)
            said = text()
            words = (
                [ev.Word(round(clock, 2), round(clock + length, 2), " " + said.split()[0], 0.9)] if index % 2 else None
            )
            batch.append(
                ev.Segment(
                    index=index,
                    start=round(clock, 2),
                    end=round(clock + length, 2),
                    text=" " + said,
                    avg_logprob=-0.3,
                    no_speech_prob=0.01,
                    words=words,
                )
            )
            index, clock = index + 1, clock + length
        if batch:
            h.add(ev.SegmentsTranscribed(job_id=job_id, segments=batch))
        if outcome == "cancelled_running" and step == progress // 2:
            h.add(ev.TranscriptionCancelRequested(job_id=job_id))
            h.add(ev.TranscriptionCancelled(job_id=job_id))
            return
    h.add(ev.SpeakersDiarized(job_id=job_id, turns=_turns(clock, 2), processing_s=round(clock / 40, 3)))
    h.add(
        ev.TranscriptionCompleted(
            job_id=job_id,
            language="en",
            duration_s=round(clock, 3),
            segment_count=index,
            processing_s=round(clock / 10, 3),
        )
    )
    _passages(h, job_id, clock)
    _insights(h, job_id)
    _speakers_named_and_rerun(h, job_id, clock)


def _turns(clock: float, speakers: int) -> list[ev.SpeakerTurn]:
    """Speakers taking 5 s turns in order: S1, S2, ... (no random draws, so the other events stay as they were)."""
    edges = [round(t * 5.0, 2) for t in range(int(clock // 5.0) + 1)] + [round(clock, 2)]
    return [
        ev.SpeakerTurn(a, b, f"S{i % speakers + 1}")
        for i, (a, b) in enumerate(zip(edges, edges[1:], strict=False))
        if b > a
    ]


UNIT_VECTOR = struct.pack("<384f", *[384**-0.5] * 384)


def _passages(h: History, job_id: str, clock: float) -> None:
    """What the embedding worker appends for a completed job: a turn and the digest (no random draws)."""
    turn = "The budget for the next quarter."
    passages = [
        ev.Passage(index=0, kind="turn", start=0.0, end=round(clock, 3), text=turn, vector=UNIT_VECTOR, speaker="S1"),
        ev.Passage(index=1, kind="digest", start=0.0, end=round(clock, 3), text=f"budget. {turn}", vector=UNIT_VECTOR),
    ]
    h.add(ev.PassagesEmbedded(job_id=job_id, model="all-MiniLM-L6-v2-onnx-int8", dimensions=384, passages=passages))


def _speakers_named_and_rerun(h: History, job_id: str, clock: float) -> None:
    h.add(ev.SpeakersNamed(job_id=job_id, names={"S1": "Maria", "S2": "S1"}))
    run_id = new_id()
    h.add(ev.DiarizationRequested(job_id=job_id, run_id=run_id, options=ev.TranscriptionOptions(speakers=3)))
    h.add(ev.DiarizationProgressed(job_id=job_id, run_id=run_id, progress=0.5))
    h.add(ev.SpeakersDiarized(job_id=job_id, turns=_turns(clock, 3), processing_s=0.1, run_id=run_id))


def _insights(h: History, job_id: str) -> None:
    run_id = new_id()
    for kind in ins.INSIGHT_KINDS:
        h.add(ev.InsightStarted(job_id=job_id, run_id=run_id, kind=kind))
    summary = ins.Summary(
        text="A short meeting.",
        points=[ins.KeyPoint(text="Budget", start=0.0, end=2.0, score=0.9)],
        keywords=["budget"],
    )
    h.add(
        ev.InsightReady(
            job_id=job_id, run_id=run_id, kind="summary", engine="builtin", payload=summary, processing_s=0.01
        )
    )
    items = ins.ActionItems(
        items=[ins.ActionItem(text="Send the notes", kind="request", assignee=None, due=None, start=1.0, end=2.0)]
    )
    h.add(
        ev.InsightReady(
            job_id=job_id, run_id=run_id, kind="action_items", engine="builtin", payload=items, processing_s=0.01
        )
    )
    for kind in ("refinement", "analytics"):
        h.add(ev.InsightFailed(job_id=job_id, run_id=run_id, kind=kind, error_code="engine_timeout", message="slow"))
    h.add(
        ev.InsightsCompleted(
            job_id=job_id, run_id=run_id, ready=["summary", "action_items"], failed=["refinement", "analytics"]
        )
    )


OUTCOMES = ("completed", "completed", "completed", "retried", "failed", "cancelled_queued", "cancelled_running")


def recording_history(
    rng: random.Random,
    tenant: str,
    at: datetime,
    *,
    segments: int = 12,
    progress: int = 4,
    outcomes: tuple[str, ...] = OUTCOMES,
    vocabulary=None,
    deleted: float = 0.1,
    jobs: tuple[int, ...] = (1, 1, 1, 2, 3),
) -> History:
    """One recording: one to three jobs with a mix of outcomes; one in ten is deleted at the end."""
    h = History(tenant, new_id(), at)
    h.add(
        ev.RecordingUploaded(
            filename=f"call-{rng.randint(1, 10**6)}.ogg",
            content_type="audio/ogg",
            size_bytes=rng.randint(10**4, 10**7),
            blob_key=f"recordings/{h.recording_id}",
            blob_digest="sha256:00",
        )
    )
    words, weights = vocabulary or (None, None)
    for _ in range(rng.choice(jobs)):
        _job(h, rng, rng.choice(outcomes), segments, progress, lambda: sentence(rng, words, weights))
    if len(h.messages) % 3 == 0:  # named and filed by a person (no draw from rng: other histories stay as they were)
        h.add(ev.RecordingDescribed(name=f"Call of {h.at:%d %B}", tags=["sales", "q3"], folder="Customers"))
    if rng.random() < deleted:
        h.add(ev.RecordingDeleted())
    return h


def histories(seed: int, tenant: str, count: int, **shape) -> Iterator[History]:
    rng = random.Random(seed)
    for i in range(count):
        yield recording_history(rng, tenant, T0 + timedelta(minutes=i), **shape)


async def append_all(js: JetStreamContext, items: Iterable[History], in_flight: int = 256) -> int:
    """Publishes every history's events to EVENTS (deduplicated by event id), many in flight; returns the count."""
    pending: set[asyncio.Task] = set()
    count = 0
    for h in items:
        for message in h.messages:
            subject = subjects.event_subject(subjects.RECORDING, h.recording_id, message.envelope.type)
            headers = {"Nats-Msg-Id": message.envelope.event_id}
            pending.add(asyncio.create_task(js.publish(subject, envelope.encode(message), headers=headers)))
            count += 1
            if len(pending) >= in_flight:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
    for task in pending:
        await task
    return count
