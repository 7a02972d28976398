"""The `voxledger` client commands (transcribe, watch, jobs, search, export) run as a user runs them: a
subprocess against the shared real stack, with a fresh tenant's key."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.helpers import AUDIO, eventually, reference, upload, wait_job
from tests.wer import BATCH_WER, assert_wer
from voxledger.stack.client.api import Event
from voxledger.stack.client.plan import Item, Options, idempotency_key, is_done, plan
from voxledger.stack.client.progress import JobProgress, apply

SPOKEN = reference("short_meeting.ogg")


def _env(stack, client: httpx.Client) -> dict[str, str]:
    key = client.headers["Authorization"].removeprefix("Bearer ")
    return {**os.environ, "VOXLEDGER_URL": stack.http_url, "VOXLEDGER_API_KEY": key}


def voxledger(stack, client: httpx.Client, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "voxledger.stack.cli", *args]
    env = _env(stack, client)
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def cue_text(subtitles: str) -> str:
    """The spoken text of an SRT or WebVTT file: its cue lines without numbers, timings or the header."""
    lines = [line for line in subtitles.splitlines() if line.strip() and "-->" not in line]
    return " ".join(line for line in lines if not line.isdigit() and line != "WEBVTT")


def _ids(client: httpx.Client) -> tuple[set[str], set[str]]:
    recordings = client.get("/v1/recordings", params={"limit": 200}).json()["items"]
    jobs = client.get("/v1/jobs", params={"limit": 200}).json()["items"]
    return {r["recording_id"] for r in recordings}, {j["job_id"] for j in jobs}


def test_transcribe_writes_every_result_lists_the_failures_and_a_rerun_does_no_new_work(stack, client, tmp_path):
    folder = tmp_path / "calls"
    (folder / "day2").mkdir(parents=True)
    shutil.copy(AUDIO / "short_meeting.ogg", folder / "standup.ogg")
    shutil.copy(AUDIO / "short_meeting.wav", folder / "day2" / "review.wav")
    (folder / "broken.wav").write_text("this is a text file, not audio\n")  # refused at the upload
    shutil.copy(AUDIO / "truncated.wav", folder / "cut.wav")  # accepted, then its job fails in the worker
    (folder / "notes.txt").write_text("not audio: never uploaded\n")

    first = voxledger(stack, client, "transcribe", str(folder), "--format", "srt", "--concurrency", "2")
    assert first.returncode == 1, first.stderr
    assert f"{folder / 'broken.wav'}: unsupported_media_type:" in first.stderr
    assert f"{folder / 'cut.wav'}: audio_truncated:" in first.stderr
    assert "2 of 4 files failed" in first.stderr
    assert "transcribing" in first.stderr  # without a terminal, progress is a line per stage
    for output in (folder / "standup.srt", folder / "day2" / "review.srt"):
        assert f"wrote {output}" in first.stdout
        assert_wer(SPOKEN, cue_text(output.read_text()), BATCH_WER, str(output))
    assert not (folder / "broken.srt").exists() and not (folder / "cut.srt").exists()
    recordings, jobs = _ids(client)
    assert len(recordings) == 3 and len(jobs) == 3  # the text file was refused: no recording

    again = voxledger(stack, client, "transcribe", str(folder), "--format", "srt")
    assert again.returncode == 1 and "2 of 4 files failed" in again.stderr
    assert again.stdout.count("skipped") == 2, again.stdout
    assert _ids(client) == (recordings, jobs)  # the failed job came back as it was, not tried again

    # A lost result is fetched again under the same Idempotency-Key: the same recording and job, no new work.
    (folder / "standup.srt").unlink()
    resumed = voxledger(stack, client, "transcribe", str(folder / "standup.ogg"), "--out", str(tmp_path / "out"))
    assert resumed.returncode == 0, resumed.stderr
    assert_wer(SPOKEN, cue_text((tmp_path / "out" / "standup.srt").read_text()), BATCH_WER)
    assert _ids(client) == (recordings, jobs)


def test_transcribe_passes_the_job_hints_to_the_job(stack, client, tmp_path):
    shutil.copy(AUDIO / "short_meeting.ogg", tmp_path / "hinted.ogg")
    hints = ("--prompt", "Budget review, second quarter.", "--hotwords", "budget", "--temperature", "0.2")
    done = voxledger(stack, client, "transcribe", str(tmp_path / "hinted.ogg"), "--format", "txt", *hints)
    assert done.returncode == 0, done.stderr
    assert_wer(SPOKEN, (tmp_path / "hinted.txt").read_text(), BATCH_WER)
    [job] = client.get("/v1/jobs").json()["items"]
    assert job["options"] == {"prompt": "Budget review, second quarter.", "hotwords": "budget", "temperature": 0.2}


def test_jobs_search_and_export_print_what_the_api_holds(stack, client, tmp_path):
    accepted = upload(client, "short_meeting.ogg").json()
    assert wait_job(client, accepted["job_id"])["status"] == "completed"
    recording_id, job_id = accepted["recording_id"], accepted["job_id"]

    jobs = voxledger(stack, client, "jobs", "--status", "completed")
    assert jobs.returncode == 0, jobs.stderr
    row = next(line for line in jobs.stdout.splitlines() if line.startswith(job_id))
    assert recording_id in row and "completed" in row and "100%" in row
    assert "no jobs" in voxledger(stack, client, "jobs", "--status", "failed").stdout

    found = voxledger(stack, client, "search", "budget")
    assert found.returncode == 0, found.stderr
    hit = next(line for line in found.stdout.splitlines() if line.startswith(recording_id))
    assert "short_meeting.ogg" in hit and "budget" in hit and "<mark>" not in hit and "[" not in hit

    srt = client.get(f"/v1/recordings/{recording_id}/transcript", params={"format": "srt"}).text
    exported = voxledger(stack, client, "export", recording_id, "--format", "srt")
    assert exported.returncode == 0 and exported.stdout == srt
    saved = voxledger(stack, client, "export", recording_id, "--format", "vtt", "--out", str(tmp_path / "t.vtt"))
    assert saved.returncode == 0 and (tmp_path / "t.vtt").read_text().startswith("WEBVTT")

    missing = voxledger(stack, client, "export", "01a2319f-672c-73ca-af34-1245e274b87a")
    assert missing.returncode == 1 and "recording_not_found" in missing.stderr


def test_watch_transcribes_the_files_waiting_and_each_one_dropped_into_the_folder_once(stack, client, tmp_path):
    shutil.copy(AUDIO / "short_meeting.wav", tmp_path / "waiting.wav")  # there before the watch: done first
    command = [sys.executable, "-m", "voxledger.stack.cli", "watch", str(tmp_path), "--format", "txt"]
    watcher = subprocess.Popen(
        command, env=_env(stack, client), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert watcher.stdout is not None
        first_line = watcher.stdout.readline()  # printed once the watcher runs: a file dropped now is seen
        assert first_line.startswith("watching"), first_line
        # Written under a name the watcher ignores, then renamed: the file appears whole, as a careful copy does.
        shutil.copy(AUDIO / "short_meeting.ogg", tmp_path / "dropped.part")
        (tmp_path / "dropped.part").rename(tmp_path / "dropped.ogg")
        for name in ("waiting.txt", "dropped.txt"):
            eventually(lambda name=name: (tmp_path / name).exists(), f"the transcript {name}", 120)
            assert_wer(SPOKEN, (tmp_path / name).read_text(), BATCH_WER, name)
    finally:
        watcher.terminate()
        out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert out.count("wrote") == 2 and out.rstrip().endswith("stopped"), out
    assert len(_ids(client)[0]) == 2  # each uploaded once: its own transcript written next to it is no new file


def test_the_plan_finds_audio_places_results_and_keys_by_content(tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    for name in ("a.wav", "sub/b.OGG", "sub/a.mp3", "notes.txt", ".hidden.wav"):
        (tmp_path / "in" / name).write_bytes(b"x")
    walked = plan([tmp_path / "in"], "srt", None)
    assert [i.output.relative_to(tmp_path) for i in walked.items] == [
        Path("in/a.srt"),
        Path("in/sub/a.srt"),
        Path("in/sub/b.srt"),
    ]
    under = plan([tmp_path / "in", tmp_path / "in" / "a.wav"], "vtt", tmp_path / "out")
    assert [i.output.relative_to(tmp_path) for i in under.items][0] == Path("out/a.vtt") and not under.conflicts
    flat = plan([tmp_path / "in" / "a.wav", tmp_path / "in" / "sub" / "a.mp3"], "txt", tmp_path / "out")
    assert [c.source.name for c in flat.conflicts] == ["a.mp3"]

    item = Item(tmp_path / "in" / "a.wav", tmp_path / "in" / "a.srt")
    assert not is_done(item)
    item.output.write_text("done")
    assert is_done(item)
    key = idempotency_key("d" * 64, "a.wav", Options(format="srt"))
    assert key == idempotency_key("d" * 64, "a.wav", Options(format="vtt"))  # the format is only how it is read
    assert key != idempotency_key("d" * 64, "a.wav", Options(model="tiny.en"))
    assert key != idempotency_key("d" * 64, "b.wav", Options())


def test_progress_follows_the_job_events():
    state = JobProgress()
    for event in (
        Event("1", "TranscriptionStarted", {"job_id": "j"}),
        Event("2", "TranscriptionProgressed", {"job_id": "j", "stage": "transcribing", "progress": 0.5, "eta_s": 3}),
    ):
        state = apply(state, event)
    assert (state.stage, state.fraction, state.eta_s, state.ended) == ("transcribing", 0.5, 3, None)
    failed = apply(state, Event("3", "TranscriptionFailed", {"job_id": "j", "error_code": "x", "message": "m"}))
    assert failed.ended == "TranscriptionFailed" and failed.error == ("x", "m")
    assert apply(state, Event("3", "TranscriptionCompleted", {"job_id": "j"})).fraction == 1.0


def test_without_a_server_or_with_missing_files_the_client_says_so_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("VOXLEDGER_URL", "VOXLEDGER_API_KEY")}
    env["VOXLEDGER_DATA_DIR"] = str(tmp_path)  # no stack runs there and it holds no dev key

    def run(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "voxledger.stack.cli", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    nowhere = run("jobs")
    assert nowhere.returncode == 2 and "no_server" in nowhere.stderr and "--url" in nowhere.stderr
    missing = run("transcribe", str(tmp_path / "missing.wav"), "--url", "http://127.0.0.1:9", "--key", "k")
    assert missing.returncode == 2 and "missing.wav" in missing.stderr
    # Nothing listens on port 9: the file is listed as failed with the client's own code.
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    refused = run("transcribe", str(tmp_path / "a.wav"), "--url", "http://127.0.0.1:9", "--key", "k")
    assert refused.returncode == 1 and f"{tmp_path / 'a.wav'}: connection_error:" in refused.stderr
