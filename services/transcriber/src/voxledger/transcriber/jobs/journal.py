"""What one attempt appends to its recording.

Everything is written in the attempt's own name (its job and attempt number), so once another worker
has taken the job over, whatever this one still tries to append is refused.
"""

from voxledger.contracts.envelope import Envelope
from voxledger.contracts.events import Segment, Stage
from voxledger.contracts.failures import public_message
from voxledger.runtime.aggregates import AggregateRepository, Loaded
from voxledger.transcriber.domain.recording import Cancel, Command, Fail, Recording, RecordSegments, ReportProgress


class AttemptJournal:
    def __init__(
        self, repo: AggregateRepository[Recording], loaded: Loaded[Recording], cause: Envelope, job_id: str, number: int
    ):
        self._repo = repo
        self._loaded = loaded
        self._cause = cause
        self.job_id = job_id
        self.number = number
        self.progress_shown = 0.0  # the highest progress reported so far

    async def append(self, command: Command) -> None:
        await self._repo.execute(self._loaded, command, self._cause)

    async def segments(self, batch: list[Segment]) -> None:
        if batch:
            await self.append(RecordSegments(job_id=self.job_id, attempt=self.number, segments=batch))

    async def report(self, stage: Stage, progress: float, processed_s: float, eta_s: float | None = None) -> None:
        self.progress_shown = max(self.progress_shown, progress)
        command = ReportProgress(
            job_id=self.job_id,
            attempt=self.number,
            stage=stage,
            progress=progress,
            processed_s=processed_s,
            eta_s=eta_s,
        )
        await self.append(command)

    async def cancel(self) -> None:
        """Records the stop of a cancelled job; the request may so far be known from the subscription only."""
        current = await self._repo.load(self._loaded.aggregate_id)
        self._loaded.state, self._loaded.seq = current.state, current.seq
        await self.append(Cancel(job_id=self.job_id, attempt=self.number))

    async def fail(self, code: str, retry_at: str | None = None) -> None:
        """A failed attempt; with `retry_at` the job is retried, without it the job has failed.

        The tenant reads the code and its fixed sentence; the details are the caller's to log."""
        message = public_message(code)
        await self.append(
            Fail(job_id=self.job_id, attempt=self.number, error_code=code, message=message, retry_at=retry_at)
        )
