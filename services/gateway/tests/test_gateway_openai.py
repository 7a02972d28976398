"""OpenAI's vocabulary over voxledger's jobs, and the job hints' edge checks: pure, without IO."""

import pytest
from openai.types.audio import TranscriptionDiarized

from voxledger.contracts.events import Segment, TranscriptionOptions, Word
from voxledger.contracts.readmodels import JobRow
from voxledger.gateway.domain import openai
from voxledger.gateway.domain.errors import DomainError, Malformed, Unacceptable
from voxledger.gateway.domain.models import ModelCatalog
from voxledger.gateway.domain.options import check_batch_size, check_temperature, job_options
from voxledger.gateway.domain.speakers import label

CATALOG = ModelCatalog({"tiny.en": None, "base": None})


def job_row(**columns: object) -> JobRow:
    """A jobs row with the columns an answer reads; the others are null (they are not read)."""
    return JobRow(**dict.fromkeys(JobRow.__struct_fields__) | columns)  # type: ignore[arg-type]


def test_openai_model_names_mean_the_default_and_served_names_are_kept():
    assert openai.model_name(CATALOG, "whisper-1") is None
    assert openai.model_name(CATALOG, "gpt-4o-mini-transcribe") is None
    assert openai.model_name(CATALOG, "base") == "base"
    with pytest.raises(Unacceptable) as unknown:
        openai.model_name(CATALOG, "whisper-2")
    assert unknown.value.code == "unknown_model" and unknown.value.field == "model"


def test_a_form_becomes_options_and_an_answer():
    fields = {"model": "whisper-1", "language": "EN", "prompt": "Acme\nminutes", "temperature": "0.3"}
    asked = openai.parse_request(CATALOG, {**fields, "response_format": "verbose_json"}, ["word"], "transcribe", False)
    assert asked.options == TranscriptionOptions(
        language="en", prompt="Acme\nminutes", temperature=0.3, word_timestamps=True
    )
    assert (asked.words, asked.segments, asked.response_format) == (True, False, "verbose_json")
    plain = openai.parse_request(CATALOG, {}, [], "translate", True)
    assert plain.options == TranscriptionOptions(task="translate") and plain.response_format == "json" and plain.stream
    # voxledger's priority rides along as an extra field; blank is the default.
    assert openai.parse_request(CATALOG, {"priority": "high"}, [], "transcribe", False).options.priority == "high"
    assert openai.parse_request(CATALOG, {"priority": ""}, [], "transcribe", False).options.priority == "normal"
    # A translation is into English: the language field does not apply.
    assert openai.parse_request(CATALOG, {"language": "de"}, [], "translate", False).options.language is None


@pytest.mark.parametrize(
    ("fields", "granularities", "code"),
    [
        ({"response_format": "xml"}, [], "invalid_response_format"),
        ({"response_format": "diarized_json", "speakers": "off"}, [], "invalid_speakers"),
        ({"response_format": "diarized_json", "speakers": "99"}, [], "invalid_speakers"),
        ({"response_format": "diarized_json"}, ["word"], "invalid_field"),
        ({"response_format": "json"}, ["word"], "invalid_field"),
        ({"response_format": "verbose_json"}, ["char"], "invalid_field"),
        ({"temperature": "2"}, [], "invalid_temperature"),
        ({"language": "english"}, [], "invalid_language"),
        ({"prompt": "a\x07b"}, [], "invalid_characters"),
        ({"priority": "urgent"}, [], "invalid_priority"),
    ],
)
def test_a_bad_form_is_refused_with_a_code(fields, granularities, code):
    with pytest.raises(DomainError) as refused:
        openai.parse_request(CATALOG, fields, granularities, "transcribe", False)
    assert refused.value.code == code


@pytest.mark.parametrize("raw", ["nan", "inf", "-0.1", "1.01", "²", "0x1", True])
def test_only_finite_temperatures_from_0_to_1_pass(raw):
    with pytest.raises((Malformed, Unacceptable)):
        check_temperature(raw)


def test_temperature_bounds_and_blanks():
    assert [check_temperature(v) for v in ("0", "1", "0.25", 0.5, None, "")] == [0.0, 1.0, 0.25, 0.5, None, None]


def test_hints_are_bounded_and_blank_ones_dropped():
    options = job_options(CATALOG, None, None, prompt="  ", hotwords="Acme Corp")
    assert options.prompt is None and options.hotwords == "Acme Corp"
    with pytest.raises(Unacceptable) as long_prompt:
        job_options(CATALOG, None, None, prompt="x" * 1025)
    assert long_prompt.value.code == "value_too_long" and long_prompt.value.field == "prompt"
    with pytest.raises(Unacceptable) as multiline:
        job_options(CATALOG, None, None, hotwords="a\nb")
    assert multiline.value.code == "invalid_characters"


def test_a_language_the_model_cannot_transcribe_is_refused():
    with pytest.raises(Unacceptable) as english_only:
        job_options(CATALOG, None, "DE")  # the default, tiny.en
    assert english_only.value.code == "unsupported_language" and english_only.value.field == "language"
    assert "tiny.en" in english_only.value.message
    with pytest.raises(Unacceptable):
        openai.parse_request(CATALOG, {"model": "whisper-1", "language": "de"}, [], "transcribe", False)
    assert job_options(CATALOG, "tiny.en", "en").language == "en"
    assert job_options(CATALOG, "base", "de").language == "de", "a multilingual model takes any language"
    assert job_options(ModelCatalog({"base": None, "tiny.en": None}), None, "de").language == "de"
    assert [m.languages for m in CATALOG.listing()] == [["en"], None]


def test_verbose_json_segments_and_words():
    words = [(0.0, 0.4, " Good", 0.9), (0.4, 0.9, " morning", 0.8)]
    segment = Segment(
        index=0, start=0.0, end=0.9, text="Good morning", avg_logprob=-0.2, no_speech_prob=0.01,
        words=[Word(*w) for w in words],
    )  # fmt: skip
    asked = openai.parse_request(CATALOG, {"response_format": "verbose_json"}, ["word", "segment"], "transcribe", False)
    job = job_row(language="en", duration_s=1.0, language_probability=0.97)
    body = openai.verbose_body(asked, job, [segment])
    assert body["text"] == "Good morning" and body["task"] == "transcribe" and body["language_probability"] == 0.97
    [seg] = body["segments"]
    assert seg["id"] == 0 and seg["seek"] == 0 and seg["tokens"] == [] and seg["temperature"] == 0.0
    assert seg["compression_ratio"] == openai.compression_ratio("Good morning") > 0
    assert body["words"] == [
        {"word": " Good", "start": 0.0, "end": 0.4},
        {"word": " morning", "start": 0.4, "end": 0.9},
    ]


def test_diarized_json_diarizes_the_job_and_answers_a_segment_per_speaker_turn():
    asked = openai.parse_request(CATALOG, {"response_format": "diarized_json"}, [], "transcribe", False)
    assert (asked.options.speakers, asked.options.word_timestamps) == ("auto", True)
    counted = {"response_format": "diarized_json", "speakers": "2", "model": "gpt-4o-transcribe-diarize"}
    assert openai.parse_request(CATALOG, counted, [], "transcribe", False).options.speakers == 2
    with pytest.raises(Malformed):
        openai.parse_request(CATALOG, {"response_format": "diarized_json"}, [], "translate", False)

    words = [Word(0.0, 0.5, " Hello", 0.9), Word(0.6, 1.0, " Maria.", 0.9), Word(1.2, 1.6, " Hi!", 0.9)]
    segment = Segment(
        index=0, start=0.0, end=1.6, text=" Hello Maria. Hi!", avg_logprob=-0.2, no_speech_prob=0.01, words=words
    )
    labelled = label([segment], [(0.0, 1.05, "S1"), (1.1, 1.7, "S2")], {"S2": "Maria"})
    body = openai.diarized_body(job_row(duration_s=1.7), labelled)
    reply = TranscriptionDiarized.model_validate(body)  # OpenAI's own model of the answer
    assert reply.text == "Hello Maria. Hi!" and reply.usage and reply.usage.type == "duration"
    assert [(s.id, s.start, s.end, s.speaker, s.text) for s in reply.segments] == [
        ("seg_0", 0.0, 1.0, "S1", "Hello Maria."),
        ("seg_1", 1.2, 1.6, "Maria", "Hi!"),
    ]
    assert reply.task == "transcribe" and reply.duration == 1.7


def test_failures_and_errors_in_openais_terms():
    assert openai.failure_status("audio_undecodable") == 400
    assert openai.failure_status("job_cancelled") == 409
    assert openai.failure_status("model_unavailable") == 503
    assert openai.failure_status("worker_lost") == 500
    assert openai.error_body(401, "invalid_api_key", "the API key is not valid", None) == {
        "message": "the API key is not valid",
        "type": "authentication_error",
        "param": None,
        "code": "invalid_api_key",
    }
    assert openai.error_type(422) == "invalid_request_error" and openai.error_type(503) == "server_error"


def test_the_document_shows_openais_form_answers_and_error_object():
    from voxledger.gateway.app import create_app
    from voxledger.gateway.openapi_document import complete_document
    from voxledger.gateway.settings import GatewaySettings

    app = create_app(GatewaySettings())
    complete_document(app)
    document = app.openapi_schema.to_schema()
    for path in ("/v1/audio/transcriptions", "/v1/audio/translations"):
        operation = document["paths"][path]["post"]
        form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert form["required"] == ["file"]
        assert {"model", "language", "prompt", "response_format", "temperature", "stream"} <= form["properties"].keys()
        assert form["properties"]["timestamp_granularities[]"]["items"]["enum"] == ["word", "segment"]
        assert set(operation["responses"]["200"]["content"]) == {
            "application/json", "text/plain", "application/x-subrip", "text/vtt", "text/event-stream",
        }  # fmt: skip
    assert "get" in document["paths"]["/v1/models/{model_id}"]
    assert document["components"]["schemas"]["Problem"]["properties"]["error"]["required"] == [
        "message", "type", "param", "code",
    ]  # fmt: skip


@pytest.mark.parametrize("raw", ["0", "33", "-1", "8.0", "٣", "1e1", True, 2.5, 40])
def test_batch_sizes_outside_1_to_32_are_refused(raw):
    with pytest.raises((Malformed, Unacceptable)) as refused:
        check_batch_size(raw)
    assert refused.value.code == "invalid_batch_size"


def test_batch_size_bounds_and_blanks():
    assert [check_batch_size(v) for v in ("1", "32", 8, None, "")] == [1, 32, 8, None, None]
