"""Upload to transcript through the event log, on the real stack and the real model."""

import re

from tests.helpers import AUDIO, read_events, reference, upload, wait_job
from tests.wer import BATCH_WER, assert_wer

SRT_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)$")
VTT_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)$")


def _seconds(h, m, s, ms) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def _cue_times(text: str, pattern: re.Pattern) -> list[tuple[float, float]]:
    times = []
    for line in text.splitlines():
        if "-->" in line:
            match = pattern.match(line.strip())
            assert match, f"malformed cue timing line: {line!r}"
            g = match.groups()
            times.append((_seconds(*g[:4]), _seconds(*g[4:])))
    return times


def test_upload_streams_ordered_events_and_an_accurate_transcript(client):
    accepted = upload(client, "short_meeting.wav")
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    recording_id, job_id = body["recording_id"], body["job_id"]
    assert body["status"] == "queued"

    events = read_events(client, recording_id, until="TranscriptionCompleted", job_id=job_id)
    types = [e["event"] for e in events]
    assert types[:3] == ["RecordingUploaded", "TranscriptionRequested", "TranscriptionStarted"]
    assert types[-1] == "TranscriptionCompleted"
    assert "SegmentsTranscribed" in types
    progress = [e["data"]["progress"] for e in events if e["event"] == "TranscriptionProgressed"]
    assert progress and progress == sorted(progress), f"progress went backwards: {progress}"
    assert types.index("TranscriptionProgressed") < types.index("SegmentsTranscribed")
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(set(ids)), "SSE ids must be increasing stream sequences"

    # The SSE id is the consistency token: a read with it reflects at least that event.
    read = client.get(f"/v1/jobs/{job_id}", params={"min_seq": events[-1]["id"]})
    assert "X-Read-Model-Stale" not in read.headers
    job = read.json()
    assert job["status"] == "completed" and job["progress"] == 1.0 and job["error"] is None
    assert job["segment_count"] >= 1 and job["duration_s"] > 8

    said = reference("short_meeting.wav")
    transcript = client.get(f"/v1/recordings/{recording_id}/transcript").json()
    assert transcript["job_id"] == job_id
    assert_wer(said, transcript["text"], BATCH_WER)
    txt = client.get(f"/v1/recordings/{recording_id}/transcript", params={"format": "txt"})
    assert txt.headers["content-type"] == "text/plain; charset=utf-8"
    assert_wer(said, txt.text, BATCH_WER, "the text rendering")

    srt = client.get(f"/v1/recordings/{recording_id}/transcript", params={"format": "srt"}).text
    srt_times = _cue_times(srt, SRT_TIME)
    assert len(srt_times) == len(transcript["segments"])
    assert srt.splitlines()[0] == "1"
    vtt_answer = client.get(f"/v1/recordings/{recording_id}/transcript", params={"format": "vtt"})
    assert vtt_answer.headers["content-type"] == "text/vtt; charset=utf-8"
    vtt = vtt_answer.text
    assert vtt.startswith("WEBVTT\n")
    vtt_times = _cue_times(vtt, VTT_TIME)
    for times in (srt_times, vtt_times):
        flat = [t for cue in times for t in cue]
        assert flat == sorted(flat), f"cue times decrease: {times}"


def test_ogg_upload_is_transcribed(client):
    accepted = upload(client, "short_meeting.ogg", language="en")
    assert accepted.status_code == 202, accepted.text
    job = wait_job(client, accepted.json()["job_id"])
    assert job["status"] == "completed", job
    text = client.get(f"/v1/recordings/{accepted.json()['recording_id']}/transcript", params={"format": "txt"}).text
    assert_wer(reference("short_meeting.ogg"), text, BATCH_WER)


def test_retranscribing_twice_gives_each_request_its_own_completed_job(client):
    first = upload(client, "short_meeting.wav").json()
    recording_id = first["recording_id"]
    assert wait_job(client, first["job_id"])["status"] == "completed"

    second = client.post(f"/v1/recordings/{recording_id}/transcriptions", json={"language": "en"})
    third = client.post(f"/v1/recordings/{recording_id}/transcriptions")
    assert second.status_code == 202 and third.status_code == 202, (second.text, third.text)
    job_ids = [first["job_id"], second.json()["job_id"], third.json()["job_id"]]
    assert len(set(job_ids)) == 3
    for job_id in job_ids[1:]:
        assert wait_job(client, job_id)["status"] == "completed"

    recording = client.get(f"/v1/recordings/{recording_id}").json()
    listed = {j["job_id"]: j["status"] for j in recording["jobs"]}
    assert listed == {job_id: "completed" for job_id in job_ids}
    assert [j["job_id"] for j in recording["jobs"]] == job_ids[::-1], "jobs are listed newest first"
    assert recording["jobs"][1]["options"]["language"] == "en", "each job keeps its own options"

    default = client.get(f"/v1/recordings/{recording_id}/transcript")
    assert default.json()["job_id"] == job_ids[2], "the newest job is the default transcript"
    for job_id in job_ids:
        earlier = client.get(f"/v1/recordings/{recording_id}/transcript", params={"job_id": job_id})
        assert earlier.status_code == 200 and earlier.json()["job_id"] == job_id
        assert earlier.json()["segments"], "every job keeps its own transcript"


def test_upload_without_transcription_creates_no_job(client):
    accepted = upload(client, "short_meeting.ogg", transcribe="false")
    assert accepted.status_code == 202
    assert accepted.json()["job_id"] is None
    recording = client.get(f"/v1/recordings/{accepted.json()['recording_id']}").json()
    assert recording["status"] == "uploaded" and recording["jobs"] == []
    not_ready = client.get(f"/v1/recordings/{recording['recording_id']}/transcript")
    assert not_ready.status_code == 409 and not_ready.json()["code"] == "transcript_not_ready"


def test_an_idempotency_key_makes_a_retried_request_return_the_same_job(client):
    key = {"Idempotency-Key": "retry-1"}
    path = AUDIO / "short_meeting.ogg"
    first = client.post("/v1/recordings", files={"file": (path.name, path.read_bytes())}, headers=key)
    retried = client.post("/v1/recordings", files={"file": (path.name, path.read_bytes())}, headers=key)
    assert first.status_code == retried.status_code == 202
    assert retried.json()["recording_id"] == first.json()["recording_id"]
    assert retried.json()["job_id"] == first.json()["job_id"]
    other_body = client.post(
        "/v1/recordings", files={"file": ("x.wav", (AUDIO / "short_meeting.wav").read_bytes())}, headers=key
    )
    assert other_body.status_code == 409 and other_body.json()["code"] == "idempotency_key_reused"

    recording_id = first.json()["recording_id"]
    assert wait_job(client, first.json()["job_id"])["status"] == "completed"
    again = [
        client.post(f"/v1/recordings/{recording_id}/transcriptions", headers={"Idempotency-Key": "again"})
        for _ in range(2)
    ]
    assert again[0].json()["job_id"] == again[1].json()["job_id"]
    assert wait_job(client, again[0].json()["job_id"])["status"] == "completed"
    jobs = client.get(f"/v1/recordings/{recording_id}").json()["jobs"]
    assert len(jobs) == 2, "two requests with one key made one job"
    assert len(client.get("/v1/recordings").json()["items"]) == 1


def test_batched_and_sequential_decoding_both_give_sentence_segments_and_an_accurate_transcript(client):
    """Batched decoding (the default) returns chunks of up to 30 s; they reach the user cut into sentences."""
    said = reference("bench_60s.ogg")
    jobs = {
        "sequential": upload(client, "bench_60s.ogg", batch_size="1").json(),
        "batched": upload(client, "bench_60s.ogg", word_timestamps="true").json(),
    }
    for mode, accepted in jobs.items():
        job = wait_job(client, accepted["job_id"])
        assert job["status"] == "completed", (mode, job)
        transcript = client.get(f"/v1/recordings/{accepted['recording_id']}/transcript").json()
        assert_wer(said, transcript["text"], BATCH_WER, f"the {mode} transcript")
        segments = transcript["segments"]
        assert len(segments) >= 6 and all(s["end"] - s["start"] <= 15 for s in segments), (mode, segments)
    assert client.get(f"/v1/jobs/{jobs['sequential']['job_id']}").json()["options"]["batch_size"] == 1
    batched = client.get(f"/v1/recordings/{jobs['batched']['recording_id']}/transcript").json()["segments"]
    for segment in batched:
        assert segment["words"], "asked-for word timestamps survive the cut into sentences"
        first, last = segment["words"][0], segment["words"][-1]  # words are [start, end, word, probability]
        assert segment["start"] == first[0] and segment["end"] == last[1]


def test_a_batch_size_outside_1_to_32_is_refused_with_its_code(client):
    refused = upload(client, "short_meeting.ogg", await_visible=False, batch_size="64")
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_batch_size", refused.text
