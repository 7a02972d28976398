"""Crash-resume efficiency: kill -9 the worker halfway through a 5-minute file and compare with a clean run.

- extra compute: (worker time before the kill + the resumed attempt's time) / a clean run's time - 1.
  A system that restarts from zero pays about 50% here; resuming pays only the lost batch and reload.
- recovery: from the kill to the second attempt's TranscriptionStarted (target: AckWait + 5 s).

Run: `uv run python -m bench.crash_resume [--ack-wait 5]`. Prints a table.
"""

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.log import logged_events
from tests.helpers import new_client, read_events, upload, wait_job
from voxledger.stack.supervisor import Stack

FILE = "bench_300s.ogg"


def clean_run(client) -> float:
    accepted = upload(client, FILE).json()
    return wait_job(client, accepted["job_id"], timeout_s=600)["processing_s"]


def crashed_run(stack, client, kill_at: float) -> tuple[float, float, float]:
    accepted = upload(client, FILE).json()
    recording_id, job_id = accepted["recording_id"], accepted["job_id"]
    events = read_events(client, recording_id, until="TranscriptionStarted", job_id=job_id)
    victim = events[-1]["data"]["worker"]
    started = time.monotonic()
    while events[-1]["event"] != "TranscriptionProgressed" or events[-1]["data"]["progress"] < kill_at:
        events += read_events(
            client, recording_id, until="TranscriptionProgressed", job_id=job_id, last_event_id=events[-1]["id"]
        )
    stack.service("transcriber", int(victim.rsplit("-", 1)[1])).proc.kill()
    killed_wall, before_kill = datetime.now(UTC), time.monotonic() - started
    job = wait_job(client, job_id, timeout_s=600)
    second = next(
        m
        for m in logged_events(stack, recording_id)
        if m.envelope.type == "TranscriptionStarted" and m.body.attempt == 2
    )
    recovery = (second.envelope.occurred_at - killed_wall).total_seconds()
    return before_kill, job["processing_s"], recovery


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ack-wait", type=float, default=5.0)
    parser.add_argument("--kill-at", type=float, default=0.5, help="progress at which the worker is killed")
    args = parser.parse_args()
    env = {"VOXLEDGER_ACK_WAIT_S": str(args.ack_wait), "VOXLEDGER_HEARTBEAT_S": "1"}
    with tempfile.TemporaryDirectory(prefix="voxledger-bench-") as tmp:
        data = Path(tmp)
        with (
            Stack(data, log_dir=data / "logs", scale={"transcriber": 2}, env=env) as stack,
            new_client(stack, "bench") as client,
        ):
            clean = clean_run(client)
            before_kill, resumed, recovery = crashed_run(stack, client, args.kill_at)
    extra = (before_kill + resumed) / clean - 1
    out = sys.stdout
    out.write(
        f"\ncrash and resume, {FILE}, worker killed at {args.kill_at:.0%} progress, AckWait {args.ack_wait:.0f} s\n\n"
    )
    out.write(f"{'clean run s':>12}{'before kill s':>15}{'resumed s':>11}{'extra compute':>15}{'recovery s':>12}\n")
    out.write(f"{clean:>12.2f}{before_kill:>15.2f}{resumed:>11.2f}{extra:>14.1%}{recovery:>12.2f}\n")
    out.write(f"\n(targets: extra compute <= 15%, recovery <= AckWait + 5 s = {args.ack_wait + 5:.0f} s)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
