"""The bus codec: every message type survives seal/encode/decode, and version skew is handled."""

import json
from datetime import UTC, datetime

import msgspec
import pytest

from voxledger.contracts import commands as cmd
from voxledger.contracts import envelope
from voxledger.contracts import events as ev
from voxledger.contracts import insights as ins
from voxledger.contracts import key_commands as kc
from voxledger.contracts import retention as rt
from voxledger.contracts import webhooks as wh
from voxledger.contracts.envelope import MESSAGE_TYPES, UPCASTERS, UnknownMessage, decode, encode, seal
from voxledger.contracts.ids import new_id

JOB = "0190f0c0-0000-7000-8000-000000000001"
REC = "0190f0c0-0000-7000-8000-0000000000aa"
OPTS = ev.TranscriptionOptions(model="tiny", language="de", task="translate", word_timestamps=True, vad=True)
SEG = ev.Segment(
    index=3,
    start=1.25,
    end=2.5,
    text=" hallo welt",
    avg_logprob=-0.31,
    no_speech_prob=0.02,
    words=[ev.Word(1.25, 1.8, " hallo", 0.9), ev.Word(1.8, 2.5, " welt", 0.75)],
)

# One representative, fully populated instance of every message type on the bus.
SAMPLES: list[ev.Event | cmd.Command] = [
    ev.RecordingUploaded(
        filename="talk.wav",
        content_type="audio/wav",
        size_bytes=12345,
        blob_key="recordings/x",
        blob_digest="sha256:ab",
    ),
    ev.TranscriptionRequested(job_id=JOB, options=OPTS),
    ev.TranscriptionStarted(job_id=JOB, attempt=2, worker="w-1", model="tiny"),
    ev.TranscriptionProgressed(job_id=JOB, stage="transcribing", progress=0.5, processed_s=30.0, eta_s=12.5),
    ev.SegmentsTranscribed(
        job_id=JOB,
        segments=[SEG, ev.Segment(index=4, start=2.5, end=3.0, text="x", avg_logprob=-1.0, no_speech_prob=0.5)],
    ),
    ev.TranscriptionCompleted(job_id=JOB, language="de", duration_s=61.2, segment_count=5, processing_s=4.2),
    ev.TranscriptionAttemptFailed(
        job_id=JOB, attempt=1, error_code="internal_error", message="boom", retry_at="2030-01-01T00:00:05+00:00"
    ),
    ev.TranscriptionFailed(job_id=JOB, error_code="audio_invalid", message="cannot decode"),
    ev.TranscriptionCancelRequested(job_id=JOB),
    ev.TranscriptionCancelled(job_id=JOB),
    ev.RecordingDeleted(),
    ev.ApiKeyIssued(key_hash="h" * 64, prefix="vx_abc", label="ci"),
    ev.ApiKeyRevoked(effective_at=datetime(2025, 1, 1, tzinfo=UTC), reason="rotated", replaced_by="key-2"),
    ev.ApiKeyUsed(at=datetime(2025, 1, 1, tzinfo=UTC)),
    kc.IssueApiKey(key_id="key-1", key_hash="h" * 64, prefix="vl_abc", label="ci", scope="read"),
    kc.RevokeApiKey(key_id="key-1"),
    kc.RotateApiKey(key_id="key-1", new_key_id="key-2", key_hash="h" * 64, prefix="vl_abc", overlap_s=60),
    kc.RecordApiKeyUse(key_id="key-1", at=datetime(2025, 1, 1, tzinfo=UTC)),
    cmd.UploadRecording(
        recording_id=REC,
        filename="talk.mp3",
        content_type="audio/mpeg",
        size_bytes=99,
        blob_key="recordings/y",
        blob_digest="sha256:cd",
        job_id=JOB,
        options=OPTS,
    ),
    cmd.UploadRecording(
        recording_id=REC, filename="a.ogg", content_type="audio/ogg", size_bytes=1, blob_key="k", blob_digest="d"
    ),
    cmd.RequestTranscription(recording_id=REC, job_id=JOB, options=OPTS),
    cmd.RequestTranscription(recording_id=REC, job_id=JOB),
    cmd.CancelTranscription(recording_id=REC, job_id=JOB),
    cmd.DeleteRecording(recording_id=REC),
    cmd.RequestInsights(recording_id=REC, job_id=JOB, run_id="run-1", kinds=["summary", "analytics"]),
    ev.InsightsRequested(job_id=JOB, run_id="run-1", kinds=["summary"]),
    ev.InsightStarted(job_id=JOB, run_id="run-1", kind="action_items"),
    ev.InsightReady(
        job_id=JOB,
        run_id="run-1",
        kind="action_items",
        engine="builtin",
        payload=ins.ActionItems(
            items=[
                ins.ActionItem(
                    text="Send the notes", kind="request", assignee="Anna", due="by Friday", start=1.0, end=2.5
                )
            ]
        ),
        processing_s=0.01,
    ),
    ev.InsightFailed(job_id=JOB, run_id="run-1", kind="summary", error_code="engine_timeout", message="took too long"),
    ev.InsightsCompleted(job_id=JOB, run_id="run-1", ready=["action_items"], failed=["summary"]),
    ev.PassagesEmbedded(
        job_id=JOB,
        model="m",
        dimensions=2,
        passages=[ev.Passage(index=0, kind="turn", start=0.0, end=1.5, text="hi", vector=b"\0" * 8, speaker="S1")],
    ),
    ev.LiveSessionStarted(
        job_id=JOB, sample_rate=48000, encoding="f32le", options=OPTS, worker="live-0-1", model="tiny"
    ),
    ev.LiveSessionTakenOver(job_id=JOB, worker="live-1-2", resumed_from_s=4.25),
    ev.LiveSessionEnded(
        job_id=JOB,
        reason="inactivity",
        duration_s=12.5,
        blob_key="recordings/z",
        blob_digest="sha256:ef",
        size_bytes=400044,
        stats=ev.LiveSessionStats(final_count=3, mean_confidence=0.81, speech_s=9.5, words_per_minute=151.6),
    ),
    *(
        wh.CreateWebhookEndpoint(
            endpoint_id=REC,
            url="https://example.com/h",
            events=["recording.uploaded"],
            secret="whsec_x",
            description="d",
        ),
        wh.UpdateWebhookEndpoint(endpoint_id=REC, url="https://example.com/i", events=[], description="", enabled=True),
        wh.DeleteWebhookEndpoint(endpoint_id=REC),
        wh.RotateWebhookSecret(endpoint_id=REC, secret="whsec_y", previous_valid_until="2030-01-01T00:00:00+00:00"),
        wh.SendTestWebhook(endpoint_id=REC, test_id=JOB),
        wh.RedeliverWebhook(
            endpoint_id=REC,
            delivery_id=JOB,
            original_delivery_id=JOB,
            webhook_id="msg_1",
            event_type="webhook.test",
            resource_id=REC,
            payload={"type": "webhook.test", "data": {"ids": [1]}},
        ),
        wh.WebhookEndpointCreated(
            url="https://example.com/h", events=["recording.uploaded"], description="", secret="s"
        ),
        wh.WebhookEndpointUpdated(url="https://example.com/i", events=["transcription.failed"], enabled=True),
        wh.WebhookEndpointDisabled(reason="the receiver answered 410 Gone"),
        wh.WebhookEndpointDeleted(),
        wh.WebhookSecretRotated(secret="whsec_y", previous_valid_until="2030-01-01T00:00:00+00:00"),
        wh.WebhookTestRequested(test_id=JOB),
        wh.WebhookRedeliveryRequested(
            delivery_id=JOB, original_delivery_id=JOB, webhook_id="msg_1", event_type="x", resource_id=REC, payload={}
        ),
        wh.WebhookDeliveryAttempted(
            endpoint_id=REC,
            webhook_id="msg_1",
            event_type="recording.uploaded",
            resource_id=REC,
            payload={"type": "recording.uploaded"},
            attempt=2,
            first_attempt_at="2030-01-01T00:00:00+00:00",
            outcome="retrying",
            status_code=503,
            error="http_503",
            latency_ms=12.5,
            response_excerpt="busy",
            next_retry_at="2030-01-01T00:00:10+00:00",
            redelivery_of=JOB,
        ),
        wh.WebhookDeliveryDropped(
            endpoint_id=REC,
            webhook_id="msg_1",
            event_type="recording.uploaded",
            resource_id=REC,
            payload={},
            reason="the endpoint was deleted",
            attempts=3,
            first_attempt_at="2030-01-01T00:00:00+00:00",
        ),
    ),
    # speakers: turns are times and labels only
    ev.SpeakersDiarized(job_id=JOB, turns=[ev.SpeakerTurn(0.0, 1.5, "S1")], processing_s=0.4),
    ev.SpeakersNamed(job_id=JOB, names={"S1": "Maria", "S2": "S1"}),
    cmd.NameSpeakers(recording_id=REC, job_id=JOB, names={"S1": "Maria"}, merge={"S2": "S1"}),
    cmd.DescribeRecording(recording_id=REC, name="Weekly sync", tags=["sales"]),
    cmd.RequestDiarization(
        recording_id=REC, job_id=JOB, run_id="run-2", options=ev.TranscriptionOptions(speakers=3, max_speakers=4)
    ),
    ev.DiarizationRequested(job_id=JOB, run_id="run-2", options=ev.TranscriptionOptions(speakers="auto")),
    ev.DiarizationProgressed(job_id=JOB, run_id="run-2", progress=0.4),
    ev.RecordingDescribed(name="Weekly sync", tags=["sales"], folder="Customers"),
    rt.ChangeRetention(retention_days=30),
    rt.RetentionChanged(retention_days=None),
    # chunked jobs: a long recording's plan, its units of work, and a chunk's (sealed) segments
    ev.TranscriptionChunked(
        job_id=JOB, attempt=1, duration_s=90.0, chunks=[ev.ChunkSpan(index=0, start_s=0.0, end_s=61.2)]
    ),
    ev.TranscriptionChunkQueued(job_id=JOB, index=1, start_s=61.2, end_s=90.0, priority="high"),
    ev.ChunkTranscribed(
        job_id=JOB,
        index=1,
        segments=[
            ev.Segment(
                index=0,
                start=61.3,
                end=62.0,
                text="hi",
                avg_logprob=-0.2,
                no_speech_prob=0.1,
                words=[ev.Word(61.3, 62.0, " hi", 0.9)],
            )
        ],
        processing_s=3.5,
        language="en",
        language_probability=0.97,
    ),
]


def test_samples_cover_every_known_message_type():
    assert {type(s).__name__ for s in SAMPLES} == set(MESSAGE_TYPES)


@pytest.mark.parametrize("body", SAMPLES, ids=lambda b: type(b).__name__)
def test_every_message_round_trips_through_the_wire(body):
    at = datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    sealed = seal(
        body,
        aggregate_id=REC,
        tenant_id="acme",
        causation_id="cause-1",
        correlation_id="corr-1",
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        occurred_at=at,
    )
    payload = encode(sealed)
    assert isinstance(payload, bytes)

    decoded = decode(payload)

    assert decoded.body == body
    assert type(decoded.body) is type(body)
    env = decoded.envelope
    assert env.type == type(body).__name__
    assert env.schema_version == type(body).SCHEMA_VERSION
    assert (env.aggregate_id, env.tenant_id) == (REC, "acme")
    assert (env.causation_id, env.correlation_id) == ("cause-1", "corr-1")
    assert env.traceparent.startswith("00-0af7651916cd43dd8448eb211c80319c-")
    assert env.occurred_at == at
    assert env.event_id == sealed.envelope.event_id


def test_payload_is_plain_json_with_body_under_data():
    body = ev.TranscriptionCancelled(job_id=JOB)
    doc = json.loads(encode(seal(body, aggregate_id=REC, tenant_id="t")))
    assert doc["type"] == "TranscriptionCancelled"
    assert doc["data"] == {"job_id": JOB}
    assert doc["aggregate_id"] == REC


def test_seal_fills_event_id_and_time_when_not_given():
    before = datetime.now(UTC)
    a = seal(ev.RecordingDeleted(), aggregate_id=REC, tenant_id="t")
    b = seal(ev.RecordingDeleted(), aggregate_id=REC, tenant_id="t")
    after = datetime.now(UTC)
    assert a.envelope.event_id != b.envelope.event_id
    assert before <= a.envelope.occurred_at <= after
    assert a.envelope.occurred_at.tzinfo is not None


def test_seal_keeps_an_explicit_event_id():
    sealed = seal(ev.RecordingDeleted(), aggregate_id=REC, tenant_id="t", event_id="dedup-42")
    assert decode(encode(sealed)).envelope.event_id == "dedup-42"


def test_optional_envelope_fields_may_be_absent():
    payload = encode(seal(ev.TranscriptionCancelled(job_id=JOB), aggregate_id=REC, tenant_id="t"))
    doc = json.loads(payload)
    assert "causation_id" not in doc and "traceparent" not in doc
    env = decode(payload).envelope
    assert env.causation_id is None and env.correlation_id is None and env.traceparent is None


def _doc(body) -> dict:
    return json.loads(encode(seal(body, aggregate_id=REC, tenant_id="acme")))


def test_newer_producer_extra_fields_are_ignored_by_an_older_consumer():
    body = ev.TranscriptionStarted(job_id=JOB, attempt=1, worker="w", model="tiny")
    doc = _doc(body)
    doc["data"]["gpu"] = {"name": "H100", "mem_gb": 80}  # a field this code does not know
    doc["data"]["priority"] = 7
    doc["partition"] = "eu-1"  # unknown top-level envelope field
    doc["headers"] = {"x": ["y"]}

    decoded = decode(json.dumps(doc).encode())

    assert decoded.body == body
    assert decoded.envelope.tenant_id == "acme"


def test_extra_fields_inside_nested_structs_are_ignored():
    body = ev.SegmentsTranscribed(job_id=JOB, segments=[SEG])
    doc = _doc(body)
    doc["data"]["segments"][0]["speaker"] = "A"
    doc["data"]["extra"] = None
    assert decode(json.dumps(doc).encode()).body == body


def test_unknown_type_raises_unknown_message():
    doc = _doc(ev.RecordingDeleted())
    doc["type"] = "RecordingArchived"
    with pytest.raises(UnknownMessage, match="RecordingArchived"):
        decode(json.dumps(doc).encode())


def test_newer_schema_version_raises_unknown_message():
    doc = _doc(ev.TranscriptionCancelled(job_id=JOB))
    doc["schema_version"] = ev.TranscriptionCancelled.SCHEMA_VERSION + 1
    with pytest.raises(UnknownMessage):
        decode(json.dumps(doc).encode())


def test_garbage_payload_is_a_value_error_not_a_crash_of_another_kind():
    # Handlers catch (UnknownMessage, ValueError); msgspec's DecodeError/ValidationError are ValueErrors.
    for payload in (b"not json", b"{}", b'{"type": 1}', b"[]"):
        with pytest.raises(ValueError):
            decode(payload)


def test_body_that_does_not_match_its_type_is_a_value_error():
    doc = _doc(ev.TranscriptionStarted(job_id=JOB, attempt=1, worker="w", model="m"))
    doc["data"]["attempt"] = "first"
    with pytest.raises(ValueError):
        decode(json.dumps(doc).encode())


class TestUpcasting:
    """An older schema version is brought up to date by registered upcasters, one version at a time."""

    def test_single_step_upcast(self, monkeypatch):
        # Pretend TranscriptionFailed is now v2, where v1's `reason` was renamed to `message`.
        monkeypatch.setattr(ev.TranscriptionFailed, "SCHEMA_VERSION", 2)

        def v1_to_v2(data: dict) -> dict:
            data = dict(data)
            data["message"] = data.pop("reason")
            return data

        monkeypatch.setitem(UPCASTERS, ("TranscriptionFailed", 1), v1_to_v2)
        old = {
            "event_id": new_id(),
            "type": "TranscriptionFailed",
            "schema_version": 1,
            "aggregate_id": REC,
            "tenant_id": "acme",
            "occurred_at": "2025-01-01T00:00:00Z",
            "data": {"job_id": JOB, "error_code": "audio_invalid", "reason": "cannot decode"},
        }

        decoded = decode(json.dumps(old).encode())

        assert decoded.body == ev.TranscriptionFailed(job_id=JOB, error_code="audio_invalid", message="cannot decode")
        assert decoded.envelope.schema_version == 1  # the envelope still says what was on the wire

    def test_upcasters_chain_across_several_versions(self, monkeypatch):
        monkeypatch.setattr(ev.TranscriptionCancelled, "SCHEMA_VERSION", 3)
        calls: list[int] = []

        def v1_to_v2(data: dict) -> dict:
            calls.append(1)
            return {"job": data["id"]}

        def v2_to_v3(data: dict) -> dict:
            calls.append(2)
            return {"job_id": data["job"]}

        monkeypatch.setitem(UPCASTERS, ("TranscriptionCancelled", 1), v1_to_v2)
        monkeypatch.setitem(UPCASTERS, ("TranscriptionCancelled", 2), v2_to_v3)
        v1 = {
            "event_id": new_id(),
            "type": "TranscriptionCancelled",
            "schema_version": 1,
            "aggregate_id": REC,
            "tenant_id": "acme",
            "occurred_at": "2025-01-01T00:00:00Z",
            "data": {"id": JOB},
        }
        v2 = {**v1, "schema_version": 2, "data": {"job": JOB}}

        assert decode(json.dumps(v1).encode()).body == ev.TranscriptionCancelled(job_id=JOB)
        assert calls == [1, 2]
        calls.clear()
        assert decode(json.dumps(v2).encode()).body == ev.TranscriptionCancelled(job_id=JOB)
        assert calls == [2]

    def test_current_version_is_not_upcast(self, monkeypatch):
        def explode(data: dict) -> dict:
            raise AssertionError("upcaster must not run for the current version")

        monkeypatch.setitem(UPCASTERS, ("TranscriptionCancelled", 1), explode)
        payload = encode(seal(ev.TranscriptionCancelled(job_id=JOB), aggregate_id=REC, tenant_id="t"))
        assert decode(payload).body == ev.TranscriptionCancelled(job_id=JOB)

    def test_sealing_after_a_bump_records_the_new_version(self, monkeypatch):
        monkeypatch.setattr(ev.TranscriptionCancelled, "SCHEMA_VERSION", 2)
        payload = encode(seal(ev.TranscriptionCancelled(job_id=JOB), aggregate_id=REC, tenant_id="t"))
        decoded = decode(payload)
        assert decoded.envelope.schema_version == 2
        assert decoded.body == ev.TranscriptionCancelled(job_id=JOB)


def test_api_key_issued_v1_is_upcast_to_v3_with_its_name_as_label_and_member_scope():
    v1 = {
        "event_id": new_id(),
        "type": "ApiKeyIssued",
        "schema_version": 1,
        "aggregate_id": "key-1",
        "tenant_id": "acme",
        "occurred_at": "2025-01-01T00:00:00Z",
        "data": {"key_hash": "h" * 64, "prefix": "vl_abc", "name": "ci"},
    }
    decoded = decode(json.dumps(v1).encode())
    assert decoded.body == ev.ApiKeyIssued(key_hash="h" * 64, prefix="vl_abc", label="ci", scope="member")
    assert decoded.envelope.schema_version == 1 and ev.ApiKeyIssued.SCHEMA_VERSION == 3


def test_api_key_issued_v2_is_upcast_to_a_member_key_without_expiry():
    v2 = {
        "event_id": new_id(),
        "type": "ApiKeyIssued",
        "schema_version": 2,
        "aggregate_id": "key-2",
        "tenant_id": "acme",
        "occurred_at": "2025-01-01T00:00:00Z",
        "data": {"key_hash": "h" * 64, "prefix": "vl_abc", "label": "ci", "scope": "admin"},
    }
    decoded = decode(json.dumps(v2).encode())
    # v2 had no scope: whatever a v2 producer's payload says, the upcast makes it member
    assert decoded.body == ev.ApiKeyIssued(key_hash="h" * 64, prefix="vl_abc", label="ci", scope="member")
    assert decoded.body.expires_at is None


def test_envelope_module_exposes_one_registry_for_events_and_commands():
    every = [
        ev.EVENT_TYPES,
        cmd.COMMAND_TYPES,
        wh.EVENT_TYPES,
        wh.COMMAND_TYPES,
        kc.COMMAND_TYPES,
        rt.COMMAND_TYPES,
        rt.EVENT_TYPES,
    ]
    assert set().union(*every) == set(envelope.MESSAGE_TYPES)
    assert sum(len(names) for names in every) == len(envelope.MESSAGE_TYPES), "no name in two registries"


def test_command_defaults_survive_the_wire():
    body = cmd.RequestTranscription(recording_id=REC, job_id=JOB)
    decoded = decode(encode(seal(body, aggregate_id=REC, tenant_id="t"))).body
    assert decoded.options == ev.TranscriptionOptions()
    assert decoded.options.task == "transcribe"
    assert msgspec.to_builtins(decoded.options) == {}  # defaults are omitted on the wire


def test_schema_version_without_an_upcaster_is_refused_as_unknown():
    doc = _doc(ev.TranscriptionCancelled(job_id=JOB))
    doc["schema_version"] = 0  # older than anything registered
    with pytest.raises((UnknownMessage, ValueError)):
        decode(json.dumps(doc).encode())
