"""Hostile or broken audio fails its job with a stable code and a fixed plain sentence, on the real stack:
no file path, host name or exception text reaches the tenant (those are in the transcriber's logs)."""

import socket
import struct

import pytest

from tests.helpers import upload, wait_job, wait_visible
from voxledger.contracts.failures import public_message


def _wav(rate: int, channels: int) -> bytes:
    block = 2 * channels
    fmt = struct.pack("<HHIIHH", 1, channels, rate, (rate * block) % 2**32, block % 2**16, 16)
    data = bytes(6400)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _failed_job(client, name: str, content: bytes) -> dict:
    accepted = client.post("/v1/recordings", files={"file": (name, content)})
    assert accepted.status_code == 202, accepted.text
    wait_visible(client, f"/v1/recordings/{accepted.json()['recording_id']}")
    return wait_job(client, accepted.json()["job_id"])


def _is_plain(message: str) -> bool:
    leaks = ("/", "\\", "Error", "Exception", "Traceback", socket.gethostname(), "voxledger-job-")
    return not any(leak in message for leak in leaks)


@pytest.mark.parametrize(
    ("name", "rate", "channels"), [("gigahertz.wav", 1_000_000_000, 1), ("channels.wav", 16_000, 4096)]
)
def test_absurd_audio_parameters_fail_with_their_own_code_and_a_plain_message(client, name, rate, channels):
    failed = _failed_job(client, name, _wav(rate, channels))
    assert failed["status"] == "failed" and failed["attempt"] == 1, "a permanent failure is not retried"
    assert failed["error"]["code"] == "unsupported_audio_parameters"
    assert failed["error"]["message"] == public_message("unsupported_audio_parameters")


def test_a_truncated_file_reads_as_a_fixed_sentence_without_its_details(client):
    failed = wait_job(client, upload(client, "truncated.wav").json()["job_id"])
    assert failed["error"]["code"] == "audio_truncated"
    message = failed["error"]["message"]
    assert message == public_message("audio_truncated") and _is_plain(message)
    assert not any(ch.isdigit() for ch in message), "byte counts stay in the logs"
