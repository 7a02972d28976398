"""What the transcriber writes to its log while it transcribes: its own lines, not faster-whisper's chatter."""

from tests.helpers import upload, wait_job


def test_faster_whisper_info_lines_stay_out_of_the_log(client, stack):
    for fields in ({}, {"batch_size": "1"}):  # batched and sequential decoding both log at info
        body = upload(client, "short_meeting.wav", **fields).json()
        assert wait_job(client, body["job_id"])["status"] == "completed"
    log = "".join(path.read_text(errors="replace") for path in stack.log_dir.glob("transcriber-*.log"))
    assert "job.completed" in log  # the log is the one the jobs ran in
    for chatter in ("Processing audio with duration", "VAD filter removed"):
        assert chatter not in log, f"faster-whisper's {chatter!r} lines flood the log"
