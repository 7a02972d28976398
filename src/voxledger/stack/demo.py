"""`voxledger demo`: upload a bundled speech sample, follow its progress live, print the transcript."""

import json
import os
import sys
from pathlib import Path

import httpx
from httpx_sse import connect_sse

from voxledger.stack.supervisor import Stack

SAMPLE = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "audio" / "short_meeting.ogg"


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def transcribe(http_url: str, api_key: str, audio: Path) -> int:
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=http_url, headers=headers, timeout=60) as client:
        with audio.open("rb") as f:
            accepted = client.post("/v1/recordings", files={"file": (audio.name, f)})
        if accepted.status_code != 202:
            say(f"upload refused: {accepted.status_code} {accepted.text}")
            return 1
        body = accepted.json()
        say(f"uploaded {audio.name}: recording {body['recording_id']}, job {body['job_id']}")
        outcome = follow(client, body["links"]["events"], body["job_id"])
        if outcome != "TranscriptionCompleted":
            job = client.get(f"/v1/jobs/{body['job_id']}").json()
            say(f"job ended as {job['status']}: {job.get('error')}")
            return 1
        transcript = client.get(body["links"]["transcript"], params={"format": "txt", "job_id": body["job_id"]})
        say("\ntranscript:\n" + transcript.text)
    return 0


def follow(client: httpx.Client, events_path: str, job_id: str) -> str:
    with connect_sse(client, "GET", events_path, timeout=httpx.Timeout(60, read=120)) as source:
        for sse in source.iter_sse():
            if not sse.data:
                continue  # keep-alive
            data = json.loads(sse.data)["data"]
            if data.get("job_id") not in (None, job_id):
                continue
            match sse.event:
                case "TranscriptionProgressed":
                    eta = f", eta {data['eta_s']:.1f} s" if data.get("eta_s") is not None else ""
                    say(f"  {data['stage']:<14} {data['progress'] * 100:5.1f}%{eta}")
                case "SegmentsTranscribed":
                    for seg in data["segments"]:
                        say(f"  [{seg['start']:6.2f} - {seg['end']:6.2f}] {seg['text']}")
                case "TranscriptionStarted":
                    say(f"  started (attempt {data['attempt']}, model {data['model']})")
                case "TranscriptionCompleted" | "TranscriptionFailed" | "TranscriptionCancelled":
                    return sse.event
    return "disconnected"


def run_demo(data_dir: Path, audio: Path | None) -> int:
    from voxledger.stack.cli import running_stack

    audio = audio or SAMPLE
    info = running_stack(data_dir)
    if info is not None:
        say(f"using the running stack at {info.http_url}")
        return transcribe(info.http_url, (data_dir / "dev-api-key").read_text().strip(), audio)
    say("starting the embedded stack ...")
    external = {"nats_url": os.environ.get("NATS_URL"), "database_url": os.environ.get("DATABASE_URL")}
    with Stack(data_dir, log_dir=data_dir / "logs", **external) as stack:
        say(f"stack ready at {stack.http_url} (logs in {data_dir / 'logs'})")
        return transcribe(stack.http_url, stack.api_key, audio)
