"""`voxledger demo`: upload a bundled speech sample, follow its progress live, print the transcript."""

import json
import os
import sys
from pathlib import Path

import httpx
from httpx_sse import connect_sse

from voxledger.stack.local import running_stack
from voxledger.stack.supervisor import Stack

SAMPLE = Path(__file__).resolve().parent / "samples" / "meeting.ogg"  # package data: a short synthetic meeting


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
        outcome, seen = follow(client, body["links"]["events"], body["job_id"], JOB_ENDS)
        if outcome != "TranscriptionCompleted":
            job = client.get(f"/v1/jobs/{body['job_id']}").json()
            say(f"job ended as {job['status']}: {job.get('error')}")
            return 1
        # The SSE id doubles as a consistency token: the read waits until the read models have it.
        transcript = client.get(
            body["links"]["transcript"], params={"format": "txt", "job_id": body["job_id"], "min_seq": seen}
        )
        say("\ntranscript:\n" + transcript.text)
        say("post-processing ...")
        insights_done, seen = follow(client, body["links"]["events"], body["job_id"], {"InsightsCompleted"}, seen)
        if insights_done != "InsightsCompleted":
            say("post-processing did not finish")
            return 1
        params = {"job_id": body["job_id"], "min_seq": seen}
        show_insights(client.get(f"{body['links']['recording']}/insights", params=params).json())
    return 0


def show_insights(insights: dict) -> None:
    by_kind = insights["insights"]
    summary = by_kind.get("summary", {})
    if summary.get("payload"):
        say("\nsummary:")
        for point in summary["payload"]["points"]:
            say(f"  [{point['start']:6.2f}] {point['text']}")
        say("  keywords: " + ", ".join(summary["payload"]["keywords"]))
    actions = by_kind.get("action_items", {})
    if actions.get("payload") is not None:
        say("\naction items:")
        for item in actions["payload"]["items"] or [{"text": "(none)", "start": 0.0}]:
            who = (
                f" ({item['assignee']}{', ' + item['due'] if item.get('due') else ''})" if item.get("assignee") else ""
            )
            say(f"  [{item['start']:6.2f}] {item['text']}{who}")
    failed = [kind for kind, insight in by_kind.items() if insight["status"] == "failed"]
    if failed:
        say(f"\nfailed insights: {', '.join(failed)}")


JOB_ENDS = {"TranscriptionCompleted", "TranscriptionFailed", "TranscriptionCancelled"}


def follow(client: httpx.Client, events_path: str, job_id: str, until: set[str], after: str = "") -> tuple[str, str]:
    """Prints the job's events as they happen; returns the first `until` event type and its id."""
    headers = {"Last-Event-ID": after} if after else {}
    with connect_sse(client, "GET", events_path, headers=headers, timeout=httpx.Timeout(60, read=120)) as source:
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
                case "InsightReady" | "InsightFailed":
                    say(f"  {data['kind']:<14} {'ready' if sse.event == 'InsightReady' else 'failed'}")
            if sse.event in until:
                return sse.event, sse.id
    return "disconnected", after


def run_demo(data_dir: Path, audio: Path | None) -> int:
    audio = audio or SAMPLE
    info = running_stack(data_dir)
    if info is not None:
        say(f"using the running stack at {info.http_url}")
        return transcribe(info.http_url, (data_dir / "dev-api-key").read_text().strip(), audio)
    say("starting the embedded stack ...")
    with Stack(
        data_dir,
        log_dir=data_dir / "logs",
        nats_url=os.environ.get("NATS_URL"),
        database_url=os.environ.get("DATABASE_URL"),
    ) as stack:
        say(f"stack ready at {stack.http_url} (logs in {data_dir / 'logs'})")
        return transcribe(stack.http_url, stack.api_key, audio)
