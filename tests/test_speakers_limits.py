"""A speakers job's own decode is bounded like every other: a tiny file of hours of silence fails `audio_too_long`
at once, and the worker process (where diarization decodes) does not grow by the decoded length."""

from tests.audio_gen import silent_flac
from tests.helpers import new_client, wait_job

LIMIT_S = 600
SILENCE_S = 3600  # six times the limit: decoded whole it would be 115 M samples, about 0.7 GB at its peak
GROWTH_BOUND = 150 * 2**20  # bytes of peak resident memory the worker may gain for the refused job


def peak_rss(pid: int) -> int:
    """The process's high-water mark of resident memory, in bytes (VmHWM in /proc: it never goes down)."""
    for line in open(f"/proc/{pid}/status").read().splitlines():  # noqa: SIM115 (procfs, read whole)
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for pid {pid}")


def test_a_tiny_file_of_hours_of_silence_with_speakers_fails_without_growing_the_worker(own_stack):
    stack = own_stack(env={"VOXLEDGER_MAX_AUDIO_DURATION_S": str(LIMIT_S)})
    worker = stack.service("transcriber").proc.pid
    with new_client(stack, "silence") as client:
        # A first short job loads everything a job loads (the diarizer aside: it loads after the decode).
        warm = client.post("/v1/recordings", files={"file": ("warm.flac", silent_flac(60))}, data={"speakers": "auto"})
        assert wait_job(client, warm.json()["job_id"])["status"] == "completed"
        before = peak_rss(worker)

        data = silent_flac(SILENCE_S)
        assert len(data) < 2**20
        accepted = client.post("/v1/recordings", files={"file": ("hours.flac", data)}, data={"speakers": "auto"})
        assert accepted.status_code == 202, accepted.text
        job = wait_job(client, accepted.json()["job_id"])
        assert job["status"] == "failed" and job["error"]["code"] == "audio_too_long", job
        # The job after it runs at once: nothing of the refused one is still decoding in the background.
        after_job = client.post("/v1/recordings", files={"file": ("next.flac", silent_flac(60))})
        assert wait_job(client, after_job.json()["job_id"])["status"] == "completed"

    grown = peak_rss(worker) - before
    assert grown < GROWTH_BOUND, f"the worker's peak memory grew by {grown / 2**20:.0f} MiB"
