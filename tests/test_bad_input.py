"""Bad input gets a clear error and never shows as completed; the transcriber keeps serving."""

import http.client
import json

import httpx

from tests.helpers import BROKEN_MODEL, upload, wait_job

PROBLEM = "application/problem+json"


def test_non_audio_bytes_are_refused_at_upload(client):
    refused = upload(client, "not_audio.bin")
    assert refused.status_code == 415
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["code"] == "unsupported_media_type"
    assert client.get("/v1/recordings").json()["items"] == [], "nothing was stored"


def test_empty_file_is_refused_at_upload(client):
    refused = upload(client, "empty.wav")
    assert refused.status_code == 400
    assert refused.json()["code"] == "file_empty"


def test_missing_file_part_is_refused(client):
    refused = client.post("/v1/recordings", data={"language": "en"}, files={"other": ("x.txt", b"hello")})
    assert refused.status_code == 422 and refused.json()["code"] == "file_missing"
    not_multipart = client.post("/v1/recordings", json={"file": "x"})
    assert not_multipart.status_code == 415 and not_multipart.json()["code"] == "multipart_required"


def test_truncated_file_fails_with_a_specific_code_and_the_next_job_still_completes(client):
    accepted = upload(client, "truncated.wav")
    assert accepted.status_code == 202
    failed = wait_job(client, accepted.json()["job_id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "audio_truncated"
    assert "declares" in failed["error"]["message"]
    recording = client.get(f"/v1/recordings/{accepted.json()['recording_id']}").json()
    assert recording["status"] == "failed"
    transcript = client.get(f"/v1/recordings/{recording['recording_id']}/transcript")
    assert transcript.status_code == 409, "a failed job never offers a transcript"

    after = upload(client, "short_meeting.ogg")
    assert wait_job(client, after.json()["job_id"])["status"] == "completed"


def test_an_unknown_model_is_refused_at_the_request(client):
    refused = upload(client, "short_meeting.ogg", model="no-such-model-xyz")
    assert refused.status_code == 422 and refused.json()["code"] == "unknown_model"
    assert client.get("/v1/recordings").json()["items"] == [], "nothing was stored"


def test_a_served_model_that_cannot_load_fails_the_job_permanently(client):
    accepted = upload(client, "short_meeting.ogg", model=BROKEN_MODEL)
    failed = wait_job(client, accepted.json()["job_id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "model_unavailable"
    assert failed["attempt"] == 1, "a permanent failure is not retried"


def test_a_language_the_model_cannot_transcribe_is_refused_never_transcribed_as_english(client):
    models = {m["name"]: m for m in client.get("/v1/models").json()["items"]}
    assert models["tiny.en"]["languages"] == ["en"] and models[BROKEN_MODEL]["languages"] is None
    german = upload(client, "short_meeting.ogg", await_visible=False, language="de")  # the default: tiny.en
    assert german.status_code == 422, german.text
    assert german.json()["code"] == "unsupported_language" and german.json()["field"] == "language"
    assert client.get("/v1/recordings").json()["items"] == [], "nothing was stored"

    recording_id = upload(client, "short_meeting.ogg", transcribe="false").json()["recording_id"]
    again = client.post(f"/v1/recordings/{recording_id}/transcriptions", json={"language": "de", "model": "tiny.en"})
    assert again.status_code == 422 and again.json()["code"] == "unsupported_language", again.text
    assert client.get(f"/v1/recordings/{recording_id}").json()["jobs"] == []


def test_invalid_options_are_refused(client):
    bad_language = upload(client, "short_meeting.ogg", language="english!")
    assert bad_language.status_code == 400 and bad_language.json()["code"] == "invalid_language"
    bad_flag = upload(client, "short_meeting.ogg", transcribe="maybe")
    assert bad_flag.status_code == 400 and bad_flag.json()["code"] == "invalid_field"


def test_an_oversized_upload_is_refused_before_its_body_is_sent(client):
    """Only the headers go out: the 413 arrives while the client still holds the gigabytes."""
    url = httpx.URL(str(client.base_url))
    conn = http.client.HTTPConnection(url.host, url.port, timeout=10)
    try:
        conn.putrequest("POST", "/v1/recordings")
        conn.putheader("Authorization", client.headers["authorization"])
        conn.putheader("Content-Type", "multipart/form-data; boundary=x")
        conn.putheader("Content-Length", str(3 * 2**30))
        conn.endheaders()  # no body is sent
        response = conn.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["code"] == "file_too_large"
    finally:
        conn.close()
