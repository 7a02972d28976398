"""The OpenAI-compatible API, driven by the official `openai` client against the shared real stack.

Each request is an ordinary job (the real model transcribes the fixture); its text is bounded by WER against
what the fixture was synthesized from, never compared word for word.
"""

import json

import httpx
import openai
import pytest
from httpx_sse import connect_sse
from openai.types.audio import TranscriptionDiarized

from tests.helpers import AUDIO, BROKEN_MODEL, eventually, reference, wait_job
from tests.test_transcription_pipeline import SRT_TIME, VTT_TIME, _cue_times
from tests.wer import BATCH_WER, assert_wer

FIXTURE = "short_meeting.ogg"
SAID = reference(FIXTURE)


@pytest.fixture
def oa(stack, client) -> openai.OpenAI:
    """The official client, with the test tenant's key; no retries, so a refusal is seen as it is."""
    key = client.headers["Authorization"].removeprefix("Bearer ")
    with openai.OpenAI(api_key=key, base_url=f"{stack.http_url}/v1", max_retries=0, timeout=180) as c:
        yield c


def _transcribe(oa: openai.OpenAI, **options):
    with (AUDIO / FIXTURE).open("rb") as f:
        return oa.audio.transcriptions.create(file=f, model="whisper-1", **options)


def test_every_response_format_is_a_job_answered_in_openais_shape(oa, client):
    as_json = _transcribe(oa)
    assert_wer(SAID, as_json.text, BATCH_WER, "json")
    text = _transcribe(oa, response_format="text")
    assert isinstance(text, str)
    assert_wer(SAID, text, BATCH_WER, "text")
    srt = _transcribe(oa, response_format="srt")
    assert srt.splitlines()[0] == "1" and _cue_times(srt, SRT_TIME), srt
    vtt = _transcribe(oa, response_format="vtt")
    assert vtt.startswith("WEBVTT") and _cue_times(vtt, VTT_TIME), vtt

    verbose = _transcribe(oa, response_format="verbose_json", language="en", temperature=0.0)
    assert verbose.language == "en" and verbose.duration > 8 and verbose.words is None
    assert_wer(SAID, verbose.text, BATCH_WER, "verbose_json")
    assert verbose.segments and verbose.segments[0].id == 0
    for segment in verbose.segments:
        assert 0 <= segment.start <= segment.end <= verbose.duration + 0.5
        assert segment.seek == round(segment.start * 100) and segment.compression_ratio > 0
        assert segment.avg_logprob < 0 <= segment.no_speech_prob <= 1 and segment.temperature == 0.0
    extra = verbose.model_extra or {}
    assert extra["task"] == "transcribe" and extra["language_probability"] == 1.0  # the language was named

    # Each request was an ordinary job of the tenant: all five are in the recordings list, completed.
    listed = client.get("/v1/recordings").json()["items"]
    assert len(listed) == 5 and {r["status"] for r in listed} == {"completed"}, listed
    job = client.get(f"/v1/jobs/{listed[0]['latest_job_id']}").json()
    assert job["options"] == {"language": "en", "temperature": 0.0}
    assert job["language"] == "en" and job["language_probability"] == 1.0


def test_word_timestamps_come_with_verbose_json(oa):
    verbose = _transcribe(oa, response_format="verbose_json", timestamp_granularities=["word", "segment"])
    assert verbose.words and verbose.segments
    assert_wer(SAID, " ".join(w.word for w in verbose.words), BATCH_WER, "the words")
    starts = [w.start for w in verbose.words]
    assert starts == sorted(starts) and all(w.start <= w.end for w in verbose.words)
    assert verbose.words[-1].end <= verbose.duration + 0.5
    # The language was detected, with the detector's confidence.
    assert verbose.language == "en" and 0.5 < (verbose.model_extra or {})["language_probability"] <= 1.0

    only_words = _transcribe(oa, response_format="verbose_json", timestamp_granularities=["word"])
    assert only_words.words and only_words.segments is None


def test_a_stream_sends_text_deltas_as_segments_arrive_then_the_whole_text(oa):
    with (AUDIO / FIXTURE).open("rb") as f:
        stream = oa.audio.transcriptions.create(file=f, model="whisper-1", stream=True)
        received = list(stream)
    types = [e.type for e in received]
    assert types[-1] == "transcript.text.done" and set(types[:-1]) == {"transcript.text.delta"}, types
    done = received[-1].text
    assert "".join(e.delta for e in received[:-1]) == done
    assert_wer(SAID, done, BATCH_WER, "the streamed text")


def test_a_client_that_leaves_a_stream_leaves_its_job_running_and_listed(stack, client):
    with (AUDIO / FIXTURE).open("rb") as f:
        files, data = {"file": (FIXTURE, f)}, {"model": "whisper-1", "stream": "true"}
        with connect_sse(client, "POST", "/v1/audio/transcriptions", files=files, data=data) as source:
            assert source.response.status_code == 200
            job_id = source.response.headers["X-Job-Id"]
            recording_id = source.response.headers["X-Recording-Id"]
    # Gone before its first event: the job goes on, and ends as any upload's does.
    assert wait_job(client, job_id)["status"] == "completed"
    assert recording_id in {r["recording_id"] for r in client.get("/v1/recordings").json()["items"]}


def test_errors_are_openai_errors_with_voxledgers_code(stack, oa):
    with pytest.raises(openai.UnprocessableEntityError) as unknown:
        _transcribe_with(oa, model="no-such-model")
    assert unknown.value.body["code"] == "unknown_model" and unknown.value.body["param"] == "model"
    assert unknown.value.body["type"] == "invalid_request_error" and "no-such-model" in unknown.value.message

    with pytest.raises(openai.BadRequestError) as bad_format:
        _transcribe(oa, response_format="xml")  # type: ignore[arg-type]
    assert bad_format.value.body["code"] == "invalid_response_format"

    with pytest.raises(openai.UnprocessableEntityError) as hot:
        _transcribe(oa, temperature=1.5)
    assert hot.value.body["code"] == "invalid_temperature" and hot.value.body["param"] == "temperature"

    # A file that is not audio: OpenAI's 400, so an SDK's BadRequestError handler sees it (415 on native routes).
    with (AUDIO / "not_audio.bin").open("rb") as f, pytest.raises(openai.BadRequestError) as not_audio:
        oa.audio.transcriptions.create(file=f, model="whisper-1")
    assert not_audio.value.status_code == 400 and not_audio.value.body == {
        "message": "the file is not a recognised audio format",
        "type": "invalid_request_error",
        "param": "file",
        "code": "unsupported_media_type",
    }
    # German on the English-only default model (tiny.en) is refused, never transcribed as English.
    with pytest.raises(openai.UnprocessableEntityError) as german:
        _transcribe(oa, language="de")
    assert german.value.body["code"] == "unsupported_language" and german.value.body["param"] == "language"

    with (
        openai.OpenAI(api_key="vl_not-a-key", base_url=f"{stack.http_url}/v1", max_retries=0) as stranger,
        pytest.raises(openai.AuthenticationError) as refused,
    ):
        _transcribe(stranger)
    assert refused.value.body["code"] == "invalid_api_key" and refused.value.body["type"] == "authentication_error"


def _transcribe_with(oa: openai.OpenAI, model: str):
    with (AUDIO / FIXTURE).open("rb") as f:
        return oa.audio.transcriptions.create(file=f, model=model)


def test_diarized_json_answers_each_speaker_turn_with_its_speaker(oa, client):
    with (AUDIO.parent / "diarization" / "two_speakers.ogg").open("rb") as f:
        diarized = oa.audio.transcriptions.create(
            file=f, model="gpt-4o-transcribe-diarize", response_format="diarized_json"
        )
    assert isinstance(diarized, TranscriptionDiarized), diarized  # the SDK's own model of the answer
    assert diarized.task == "transcribe" and diarized.duration > 5 and diarized.text
    assert {s.speaker for s in diarized.segments} == {"S1", "S2"}, diarized.segments
    assert diarized.text == " ".join(s.text for s in diarized.segments)
    last_end = 0.0
    for segment in diarized.segments:
        assert last_end <= segment.start < segment.end <= diarized.duration + 0.5 and segment.text, segment
        assert segment.type == "transcript.text.segment"
        last_end = segment.end
    # The job behind it was diarized: an ordinary job, with its speakers readable on the native routes too.
    [recording] = client.get("/v1/recordings").json()["items"]
    job = client.get(f"/v1/jobs/{recording['latest_job_id']}").json()
    assert job["options"]["speakers"] == "auto" and job["options"]["word_timestamps"] is True, job["options"]


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the client marks translations deprecated
def test_a_translation_is_a_translate_job(oa, client):
    """tiny.en knows English only: translating English speech is still a job, and answers the English text."""
    with (AUDIO / FIXTURE).open("rb") as f:
        verbose = oa.audio.translations.create(
            file=f, model="tiny.en", response_format="verbose_json", extra_body={"priority": "low"}
        )
    assert (verbose.model_extra or {})["task"] == "translate" and verbose.language == "en"
    assert_wer(SAID, verbose.text, BATCH_WER, "the translation")
    [recording] = client.get("/v1/recordings").json()["items"]
    job = client.get(f"/v1/jobs/{recording['latest_job_id']}").json()
    assert job["status"] == "completed" and job["options"]["task"] == "translate"
    assert job["priority"] == "low", "voxledger's priority, sent by OpenAI's SDK as an extra form field"


def test_models_in_openais_shape_beside_voxledgers(oa, client):
    ids = {m.id: m for m in oa.models.list()}
    assert {"tiny.en", "whisper-1"} <= ids.keys() and ids["whisper-1"].owned_by == "voxledger"
    assert oa.models.retrieve("tiny.en").object == "model"
    with pytest.raises(openai.NotFoundError) as missing:
        oa.models.retrieve("nope")
    assert missing.value.body["code"] == "model_not_found"
    native = client.get("/v1/models").json()
    assert native["default"] == "tiny.en" and native["object"] == "list"
    assert [m["name"] for m in native["items"]] == [m["id"] for m in native["data"][: len(native["items"])]]


def test_native_jobs_take_prompt_hotwords_and_temperature(client):
    hints = {"prompt": "Meeting notes: budget, quarter.", "hotwords": "budget quarter", "temperature": "0.2"}
    with (AUDIO / FIXTURE).open("rb") as f:
        accepted = client.post("/v1/recordings", files={"file": (FIXTURE, f)}, data=hints)
    assert accepted.status_code == 202, accepted.text
    job = wait_job(client, accepted.json()["job_id"])
    assert job["status"] == "completed" and job["options"] == {**hints, "temperature": 0.2}
    assert job["language"] == "en" and 0.5 < job["language_probability"] <= 1.0
    recording_id = accepted.json()["recording_id"]
    transcript = client.get(f"/v1/recordings/{recording_id}/transcript").json()
    assert transcript["language_probability"] == job["language_probability"]
    assert_wer(SAID, transcript["text"], BATCH_WER, "a prompted transcript")

    again = client.post(f"/v1/recordings/{recording_id}/transcriptions", json={"temperature": 0.4, "prompt": "Hi."})
    assert again.status_code == 202, again.text
    assert wait_job(client, again.json()["job_id"])["options"] == {"temperature": 0.4, "prompt": "Hi."}


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("temperature", "1.5", "invalid_temperature"),
        ("temperature", "warm", "invalid_temperature"),
        ("prompt", "a\x00b", "invalid_characters"),
        ("hotwords", "a\nb", "invalid_characters"),
        ("prompt", "x" * 1025, "value_too_long"),
    ],
)
def test_hints_are_checked_at_the_edge(client, field, value, code):
    with (AUDIO / FIXTURE).open("rb") as f:
        refused = client.post("/v1/recordings", files={"file": (FIXTURE, f)}, data={field: value})
    assert refused.status_code in (400, 422) and refused.json()["code"] == code, refused.text
    assert refused.json()["field"] == field
    body = {field: float(value) if field == "temperature" and value[0].isdigit() else value}
    again = client.post("/v1/recordings/00000000-0000-7000-8000-000000000000/transcriptions", json=body)
    assert again.status_code in (400, 422), again.text
    assert client.get("/v1/recordings").json()["items"] == [], "a refused request leaves nothing behind"


def test_a_missing_file_is_refused_before_any_job(client):
    refused = client.post("/v1/audio/transcriptions", data={"model": "whisper-1"}, files={"x": ("x", b"1")})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "file_missing"
    assert httpx.codes.is_client_error(client.post("/v1/audio/translations", json={}).status_code)


def test_a_job_that_fails_answers_with_its_code_in_openais_terms(oa):
    with (AUDIO / "truncated.wav").open("rb") as f, pytest.raises(openai.BadRequestError) as truncated:
        oa.audio.transcriptions.create(file=f, model="whisper-1")
    assert truncated.value.body["code"] == "audio_truncated" and truncated.value.body["type"] == "invalid_request_error"
    # A served model that cannot load gets past the allow-list and fails in the worker: the server's fault.
    with pytest.raises(openai.InternalServerError) as unloadable:
        _transcribe_with(oa, model=BROKEN_MODEL)
    assert unloadable.value.status_code == 503 and unloadable.value.body["code"] == "model_unavailable"


def test_a_cancelled_job_ends_its_stream_with_an_error(client):
    with (AUDIO / "bench_60s.ogg").open("rb") as f:
        files, data = {"file": ("bench_60s.ogg", f)}, {"model": "whisper-1", "stream": "true"}
        with connect_sse(client, "POST", "/v1/audio/transcriptions", files=files, data=data) as source:
            job_id = source.response.headers["X-Job-Id"]
            assert client.post(f"/v1/jobs/{job_id}/cancel").status_code == 202
            received = [(e.event, json.loads(e.data)) for e in source.iter_sse() if e.data]
    event, body = received[-1]
    assert event == "error" and body["error"]["code"] == "job_cancelled", received[-3:]
    assert wait_job(client, job_id)["status"] == "cancelled"


def test_a_client_that_gives_up_waiting_leaves_its_job_running_and_listed(client):
    with (AUDIO / FIXTURE).open("rb") as f, pytest.raises(httpx.ReadTimeout):
        # The request is sent whole; only the wait for the answer times out, long before the job can end.
        client.post(
            "/v1/audio/transcriptions",
            files={"file": (FIXTURE, f)},
            data={"model": "whisper-1"},
            timeout=httpx.Timeout(30, read=0.05),
        )
    [recording] = eventually(lambda: client.get("/v1/recordings").json()["items"], "the job listed", 10)
    assert wait_job(client, recording["latest_job_id"])["status"] == "completed"
