"""Chaos: SIGSTOP a worker past AckWait, let another take the job over, then SIGCONT it.

The paused worker wakes up believing it still holds the job. Its lease has
expired and its attempt is superseded, so its late writes are refused and the
transcript stays clean.
"""

import os
import signal
import time

from tests.helpers import log_events, new_client, read_events, upload, wait_job
from voxledger.stack.supervisor import Stack

ACK_WAIT_S = 5
REFUSED = ("job.superseded", "job.lease_lost", "job.failure_refused")


def test_a_paused_worker_that_wakes_up_after_a_takeover_cannot_write(tmp_path):
    env = {"VOXLEDGER_ACK_WAIT_S": str(ACK_WAIT_S), "VOXLEDGER_HEARTBEAT_S": "1"}
    data = tmp_path / "data"
    with (
        Stack(data, log_dir=data / "logs", scale={"transcriber": 2}, env=env) as stack,
        new_client(stack, "zombie") as client,
    ):
        accepted = upload(client, "bench_300s.ogg").json()
        recording_id, job_id = accepted["recording_id"], accepted["job_id"]
        events = read_events(client, recording_id, until="SegmentsTranscribed", job_id=job_id)
        zombie_name = next(e for e in events if e["event"] == "TranscriptionStarted")["data"]["worker"]
        zombie = stack.service("transcriber", int(zombie_name.rsplit("-", 1)[1])).proc

        os.kill(zombie.pid, signal.SIGSTOP)
        try:
            takeover = read_events(client, recording_id, until="TranscriptionStarted", job_id=job_id,
                                   last_event_id=events[-1]["id"])  # fmt: skip
            # let the new holder write a little before the zombie wakes up
            read_events(client, recording_id, until="SegmentsTranscribed", job_id=job_id,
                        last_event_id=takeover[-1]["id"])  # fmt: skip
        finally:
            os.kill(zombie.pid, signal.SIGCONT)

        zombie_log = data / "logs" / f"{zombie_name}.log"
        deadline = time.monotonic() + 60
        while not any(word in zombie_log.read_text() for word in REFUSED):
            assert time.monotonic() < deadline, "the woken worker never noticed it lost the job"
            time.sleep(0.2)
        job = wait_job(client, job_id, timeout_s=240)
        assert zombie.poll() is None, "the worker that lost the job keeps serving"
        history = log_events(stack, recording_id)

    assert job["status"] == "completed", job
    starts = [m for m in history if m.envelope.type == "TranscriptionStarted"]
    assert [m.body.attempt for m in starts] == [1, 2]
    assert starts[0].body.worker == zombie_name and starts[1].body.worker != zombie_name
    takeover_at = history.index(starts[1])
    late = [m.envelope.type for m in history[takeover_at:] if m.envelope.causation_id == starts[0].envelope.event_id]
    assert late == [], f"the superseded attempt wrote after the takeover: {late}"
    segments = [s for m in history if m.envelope.type == "SegmentsTranscribed" for s in m.body.segments]
    assert [s.index for s in segments] == list(range(len(segments))), "no duplicated or missing segment"
    assert [s.start for s in segments] == sorted(s.start for s in segments)
    assert [m.envelope.type for m in history].count("TranscriptionCompleted") == 1
