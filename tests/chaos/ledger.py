"""Checks the chaos tests share: the event log tells one clean story per job, and the read model matches it."""

import time

import httpx

from tests.helpers import JOB_END_EVENTS, eventually, log_events, wait_job, wait_logged
from voxledger.contracts.envelope import Message
from voxledger.runtime.db import create_pool


def wait_visible(client: httpx.Client, job_id: str, timeout_s: float = 60) -> None:
    """Until the accepted job shows in the read model: a worker still loading its model right after the
    stack started handles the upload command only once it is ready."""
    eventually(lambda: client.get(f"/v1/jobs/{job_id}").status_code != 404, f"job {job_id} visible", timeout_s)


def wait_jobs(client: httpx.Client, job_ids: list[str], timeout_s: float = 240) -> list[dict]:
    """Each job once it has ended, in order."""
    for job_id in job_ids:
        wait_visible(client, job_id)
    return [wait_job(client, job_id, timeout_s=timeout_s) for job_id in job_ids]


def job_events(history: list[Message], job_id: str) -> list[Message]:
    return [m for m in history if getattr(m.body, "job_id", None) == job_id]


def assert_clean_job_log(history: list[Message], job_id: str, ending: str) -> list:
    """Exactly one terminal event (`ending`), segments numbered 0..n-1 with none doubled; returns the segments."""
    events = job_events(history, job_id)
    endings = [m.envelope.type for m in events if m.envelope.type in JOB_END_EVENTS]
    assert endings == [ending], f"job {job_id} ended with {endings}"
    segments = [s for m in events if m.envelope.type == "SegmentsTranscribed" for s in m.body.segments]
    assert [s.index for s in segments] == list(range(len(segments))), (
        f"job {job_id}: segment indexes have a gap or a repeat"
    )
    ids = [m.envelope.event_id for m in history]
    assert len(ids) == len(set(ids)), "an event was appended twice"
    return segments


async def read_model_segments(database_url: str, job_ids: list[str]) -> dict[str, list[tuple[int, str]]]:
    """(index, text) of every projected segment of the jobs, in order. Through the services' own pool: it waits
    for a database that is still coming back, and reads ids as the services do."""
    pool = await create_pool(database_url, max_size=1)
    try:
        rows = await pool.fetch(
            "SELECT job_id, idx, text FROM segments WHERE job_id = ANY($1::uuid[]) ORDER BY job_id, idx", job_ids
        )
    finally:
        await pool.close()
    found: dict[str, list[tuple[int, str]]] = {job_id: [] for job_id in job_ids}
    for row in rows:
        found[row["job_id"]].append((row["idx"], row["text"]))
    return found


async def assert_ledger_matches_read_model(nc, stack, accepted: list[dict], jobs: list[dict]) -> None:
    """Every job completed once, its log is clean, and its projected segments equal the logged ones (`nc`: a
    connection to `stack` as `provision`)."""
    projected = await read_model_segments(stack.database_url, [a["job_id"] for a in accepted])
    for a, job in zip(accepted, jobs, strict=True):
        assert job["status"] == "completed", job
        history = await log_events(nc, stack, a["recording_id"])
        segments = assert_clean_job_log(history, a["job_id"], "TranscriptionCompleted")
        assert segments, f"job {a['job_id']} completed with no segments"
        assert projected[a["job_id"]] == [(s.index, s.text) for s in segments], "the read model differs from the log"
        assert job["segment_count"] == len(segments)


async def assert_insights_once(nc, stack, accepted: list[dict], timeout_s: float = 120) -> None:
    """Post-processing kept up as well: every job's four insights settle, exactly once each."""
    deadline = time.monotonic() + timeout_s
    for a in accepted:
        left_s = deadline - time.monotonic()
        history = await wait_logged(
            nc, stack, a["recording_id"], "InsightsCompleted", job_id=a["job_id"], timeout_s=left_s
        )
        types = [m.envelope.type for m in job_events(history, a["job_id"])]
        counts = {t: types.count(t) for t in ("InsightStarted", "InsightReady", "InsightsCompleted")}
        assert counts == {"InsightStarted": 4, "InsightReady": 4, "InsightsCompleted": 1}, (a["job_id"], counts)
