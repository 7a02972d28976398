"""Chaos: the model process hangs (SIGSTOP) mid-job. The attempt times out, the hung process is
killed, and the job is retried on a fresh one, while the worker itself keeps running."""

import asyncio
import os
import signal
from pathlib import Path

from tests.helpers import log_events, read_events, upload, wait_job


def children_of(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def test_a_hung_model_call_ends_the_attempt_as_a_timeout_and_the_job_is_retried(own_stack, nats_on, client_on):
    env = {  # a limit short enough for a test: 3 s + 2 x the audio left x 0.25
        "VOXLEDGER_ATTEMPT_TIMEOUT_FLOOR_S": "3",
        "VOXLEDGER_ATTEMPT_TIMEOUT_FACTOR": "2",
        "VOXLEDGER_INITIAL_REALTIME_FACTOR": "0.25",
        "VOXLEDGER_RETRY_BASE_S": "0.5",
    }
    stack = await asyncio.to_thread(own_stack, env=env)
    client = await client_on(stack, "hung")
    worker = stack.service("transcriber").proc
    (model_process,) = children_of(worker.pid)
    accepted = upload(client, "bench_60s.ogg").json()
    recording_id, job_id = accepted["recording_id"], accepted["job_id"]
    read_events(client, recording_id, until="TranscriptionStarted", job_id=job_id)
    os.kill(model_process, signal.SIGSTOP)  # hangs wherever it is: decoding, loading or transcribing

    job = wait_job(client, job_id, timeout_s=180)
    assert worker.poll() is None, "the worker itself kept running"
    assert model_process not in children_of(worker.pid), "the hung process was killed"
    assert len(children_of(worker.pid)) == 1, "and replaced by a fresh one"
    history = await log_events(await nats_on(stack), stack, recording_id)

    assert job["status"] == "completed", job
    failures = [m.body for m in history if m.envelope.type == "TranscriptionAttemptFailed"]
    assert [(f.attempt, f.error_code) for f in failures[:1]] == [(1, "attempt_timeout")]
    assert failures[0].retry_at is not None
    starts = [m.body.attempt for m in history if m.envelope.type == "TranscriptionStarted"]
    assert starts[:2] == [1, 2]
    segments = [s for m in history if m.envelope.type == "SegmentsTranscribed" for s in m.body.segments]
    assert [s.index for s in segments] == list(range(len(segments))), "no duplicated or missing segment"
    assert job["segment_count"] == len(segments) > 0
