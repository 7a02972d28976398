"""Chaos: bad files uploaded in between good ones. Each bad one is refused at upload or fails with its own code,
at once and without retries; every good one completes with a correct transcript."""

import struct

import httpx

from tests.chaos.ledger import assert_clean_job_log, wait_jobs
from tests.helpers import AUDIO, log_events, reference
from tests.wer import BATCH_WER, assert_wer

PROBLEM = "application/problem+json"
GOOD = (AUDIO / "short_meeting.wav").read_bytes()


def damaged_ogg() -> bytes:
    data = bytearray((AUDIO / "short_meeting.ogg").read_bytes())
    data[15_000:15_400] = bytes(400)  # a burst of zeros across a page, as a bad disk or transfer leaves
    return bytes(data)


def wav_declaring_days() -> bytes:
    """A valid WAV header over 100 kB of samples at 1 Hz: it declares 50 000 s, far over the 4 h limit."""
    samples = bytes(100_000)
    fmt = struct.pack("<HHIIHH", 1, 1, 1, 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body


# name, bytes, and what the product answers: an HTTP status and code at upload, or the job's failure code.
UPLOADS = [
    ("good-1.wav", GOOD, "completed"),
    ("damaged.ogg", damaged_ogg(), "audio_corrupt"),
    ("good-2.wav", GOOD, "completed"),
    ("truncated.wav", (AUDIO / "truncated.wav").read_bytes(), "audio_truncated"),
    ("empty.wav", b"", (400, "file_empty")),
    ("good-3.wav", GOOD, "completed"),
    ("not_audio.bin", (AUDIO / "not_audio.bin").read_bytes(), (415, "unsupported_media_type")),
    ("days.wav", wav_declaring_days(), "audio_too_long"),
    ("cut.ogg", (AUDIO / "short_meeting.ogg").read_bytes()[:12_000], "audio_truncated"),
    ("good-4.wav", GOOD, "completed"),
]


def send(client: httpx.Client, name: str, data: bytes) -> httpx.Response:
    return client.post("/v1/recordings", files={"file": (name, data)}, data={"language": "en"})


async def test_bad_files_fail_with_their_own_code_while_good_jobs_complete(stack, nc, client_on):
    client = await client_on(stack, "bad-input")  # the shared stack: nothing is killed, the tenant is its own
    accepted: list[tuple[str, dict, str]] = []
    for name, content, expected in UPLOADS:
        response = send(client, name, content)
        if isinstance(expected, tuple):
            assert (response.status_code, response.json()["code"]) == expected, (name, response.text)
            assert response.headers["content-type"].startswith(PROBLEM)
        else:
            assert response.status_code == 202, (name, response.text)
            accepted.append((name, response.json(), expected))

    jobs = wait_jobs(client, [ids["job_id"] for _, ids, _ in accepted])
    for (name, ids, expected), job in zip(accepted, jobs, strict=True):
        history = await log_events(nc, stack, ids["recording_id"])
        if expected == "completed":
            assert job["status"] == "completed", (name, job)
            assert_clean_job_log(history, ids["job_id"], "TranscriptionCompleted")
            transcript = client.get(f"/v1/recordings/{ids['recording_id']}/transcript").json()
            assert_wer(reference("short_meeting.wav"), transcript["text"], BATCH_WER, name)
        else:
            assert job["status"] == "failed" and job["error"]["code"] == expected, (name, job)
            assert job["attempt"] == 1, f"{name}: a permanent failure is not retried"
            assert_clean_job_log(history, ids["job_id"], "TranscriptionFailed")
            types = [m.envelope.type for m in history]
            assert "TranscriptionAttemptFailed" not in types and "SegmentsTranscribed" not in types, name
            refused = client.get(f"/v1/recordings/{ids['recording_id']}/transcript")
            assert refused.status_code == 409 and refused.json()["code"] == "transcript_not_ready", name
    listed = client.get("/v1/recordings", params={"limit": 50}).json()["items"]
    assert len(listed) == len(accepted), "a refused upload leaves no recording behind"
