"""`voxledger transcribe`: upload files with bounded concurrency, follow each job on SSE, write each result.

A rerun resumes: a file whose output is newer is skipped, and any other file is uploaded with the same
Idempotency-Key as before, so the gateway answers with the recording and job it already has."""

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from voxledger.stack.client.api import Api, ApiProblem
from voxledger.stack.client.plan import Item, Options, file_digest, idempotency_key, is_done
from voxledger.stack.client.progress import JobProgress, ProgressView, apply

STREAM_RETRIES = 5  # a broken event stream is resumed after its last event this often, with backoff
TRANSCRIPT_TRIES = 5  # each waits server-side for the read models (min_seq); a lag past that is retried


@dataclass(frozen=True)
class Outcome:
    item: Item
    status: str  # written, skipped or failed
    error: ApiProblem | None = None


class Transcriber:
    """Runs items through upload -> job -> transcript, `concurrency` at a time, reporting on `view`."""

    def __init__(self, api: Api, options: Options, view: ProgressView, results: Console, concurrency: int):
        self.api, self.options, self.view, self.results = api, options, view, results
        self._slots = asyncio.Semaphore(max(1, concurrency))

    async def run(self, item: Item, force: bool = False) -> Outcome:
        if not force and is_done(item):
            self.results.print(f"skipped {item.source} ({item.output} is up to date)")
            return Outcome(item, "skipped")
        name = str(item.source)
        async with self._slots:
            try:
                await self._transcribe(item, name)
            except ApiProblem as problem:
                return Outcome(item, "failed", problem)
            except OSError as err:  # the input vanished or is unreadable, or the output cannot be written
                return Outcome(item, "failed", ApiProblem("file_error", f"{err.strerror or err}: {err.filename}"))
            finally:
                self.view.close(name)
        self.results.print(f"wrote {item.output}")
        return Outcome(item, "written")

    async def _transcribe(self, item: Item, name: str) -> None:
        self.view.show(name, "hashing")
        digest = await asyncio.to_thread(file_digest, item.source)
        self.view.show(name, "uploading")
        key = idempotency_key(digest, item.source.name, self.options)
        size = max(item.source.stat().st_size, 1)

        def sent(done: int) -> None:
            self.view.show(name, "uploading", done / size)

        accepted = await self.api.upload(item.source, self.options.form(), key, sent)
        recording_id, job_id = accepted["recording_id"], accepted["job_id"]
        end = await self._follow(name, recording_id, job_id)
        self.view.show(name, "writing", 1.0)
        body = await self._transcript(recording_id, job_id, end)
        _write(item.output, body)

    async def _follow(self, name: str, recording_id: str, job_id: str) -> str:
        """Shows the job's progress until it ends; the end event's id (a consistency token for the read).

        A broken stream (a gateway restarted, a proxy's idle cut) is resumed after the last event seen."""
        state, after, breaks = JobProgress(), "0", 0
        self.view.show(name, state.stage)
        while True:
            try:
                async for event in self.api.events(recording_id, after):
                    after = event.id
                    if event.data.get("job_id") != job_id:
                        continue  # another job of the recording, or a recording-level event
                    state = apply(state, event)
                    self.view.show(name, state.stage, state.fraction, state.eta_s)
                    if state.error is not None:
                        raise ApiProblem(*state.error)
                    if state.ended is not None:
                        return event.id
            except ApiProblem as problem:
                if problem.code != "connection_error" or breaks >= STREAM_RETRIES:
                    raise
            breaks += 1
            await asyncio.sleep(min(2.0**breaks, 10.0))  # nothing to await: the server is away

    async def _transcript(self, recording_id: str, job_id: str, end_seq: str) -> bytes:
        for _ in range(TRANSCRIPT_TRIES - 1):
            try:
                return await self.api.transcript(recording_id, self.options.format, job_id, end_seq)
            except ApiProblem as problem:
                if problem.code != "transcript_not_ready":
                    raise
        return await self.api.transcript(recording_id, self.options.format, job_id, end_seq)


def _write(path: Path, body: bytes) -> None:
    """Whole or not at all: a crash mid-write leaves no truncated transcript that a rerun would skip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(body)
    os.replace(partial, path)


def report_failures(outcomes: list[Outcome], console: Console) -> int:
    """Lists every failed file with its code and message; the exit status (0 when none failed)."""
    failed = [o for o in outcomes if o.status == "failed"]
    if not failed:
        return 0
    console.print(f"{len(failed)} of {len(outcomes)} files failed:")
    for outcome in failed:
        assert outcome.error is not None
        console.print(f"  {outcome.item.source}: {outcome.error.code}: {outcome.error.message}")
    return 1
