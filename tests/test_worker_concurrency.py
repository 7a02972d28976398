"""One worker with `concurrency` 2 runs two jobs at the same time, each in its own model process."""

from tests.helpers import new_client, read_events, upload, wait_job


def test_a_worker_with_two_slots_runs_two_jobs_at_once(own_stack):
    stack = own_stack(env={"VOXLEDGER_CONCURRENCY": "2"})
    with new_client(stack, "concurrency") as client:
        jobs = [upload(client, "bench_60s.ogg").json() for _ in range(2)]
        for job in jobs:
            assert wait_job(client, job["job_id"], timeout_s=240)["status"] == "completed"
        timelines = [
            read_events(client, job["recording_id"], until="TranscriptionCompleted", job_id=job["job_id"])
            for job in jobs
        ]

    def seq_of(events: list[dict], name: str) -> int:
        return int(next(e["id"] for e in events if e["event"] == name))

    first, second = timelines
    workers = {next(e["data"]["worker"] for e in t if e["event"] == "TranscriptionStarted") for t in timelines}
    assert len(workers) == 1, "both ran on the one worker"
    assert seq_of(second, "TranscriptionStarted") < seq_of(first, "TranscriptionCompleted"), (
        "the second started before the first finished"
    )
    assert seq_of(first, "TranscriptionStarted") < seq_of(second, "TranscriptionCompleted")
    for t in timelines:
        segments = [s for e in t if e["event"] == "SegmentsTranscribed" for s in e["data"]["segments"]]
        assert [s["index"] for s in segments] == list(range(len(segments))) and segments
