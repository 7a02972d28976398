"""Which log events become which webhook events, the registry that addresses them, and the ids they keep."""

from datetime import UTC, datetime

from voxledger.contracts import events as ev
from voxledger.contracts import webhooks as wh
from voxledger.contracts.envelope import seal
from voxledger.webhooks.domain import catalog
from voxledger.webhooks.domain.registry import Registry

REC = "0190f0c0-0000-7000-8000-0000000000aa"
JOB = "0190f0c0-0000-7000-8000-000000000001"
AT = datetime(2030, 1, 1, tzinfo=UTC)


def meta(body):
    return seal(body, aggregate_id=REC, tenant_id="acme", occurred_at=AT).envelope


def test_log_events_map_to_their_webhook_types_with_ids_and_links_only():
    bodies = {
        "recording.uploaded": ev.RecordingUploaded(
            filename="secret-board-meeting.ogg", content_type="audio/ogg", size_bytes=1, blob_key="k", blob_digest="d"
        ),
        "transcription.completed": ev.TranscriptionCompleted(
            job_id=JOB, language="en", duration_s=1, segment_count=1, processing_s=1
        ),
        "transcription.failed": ev.TranscriptionFailed(
            job_id=JOB, error_code="audio_invalid", message="boom at /tmp/x"
        ),
        "transcription.cancelled": ev.TranscriptionCancelled(job_id=JOB),
        "insights.completed": ev.InsightsCompleted(job_id=JOB, run_id=JOB, ready=["summary"], failed=[]),
    }
    for event_type, body in bodies.items():
        out = catalog.outgoing(meta(body), body)
        assert out is not None and out.event_type == event_type and out.resource_id == REC
        assert out.data["recording_id"] == REC and out.data["links"]["recording"] == f"/v1/recordings/{REC}"
        text = str(out.data)
        assert "secret-board-meeting" not in text and "/tmp/x" not in text, "no tenant content, no worker detail"
    assert set(bodies) | {"live_session.ended"} == set(wh.WEBHOOK_EVENT_TYPES)
    progress = ev.TranscriptionProgressed(job_id=JOB, stage="transcribing", progress=0.5, processed_s=1)
    assert catalog.outgoing(meta(progress), progress) is None


def test_delivery_and_webhook_ids_are_stable_per_event_and_endpoint():
    out = catalog.probe("e1", "t1")
    one = catalog.work_for(out, "event-1", "e1", "acme", AT.isoformat())
    again = catalog.work_for(out, "event-1", "e1", "acme", AT.isoformat())
    other = catalog.work_for(out, "event-1", "e2", "acme", AT.isoformat())
    assert one == again and one.delivery_id != other.delivery_id
    assert one.webhook_id.startswith("msg_") and one.payload == {
        "type": "webhook.test",
        "timestamp": AT.isoformat(),
        "data": out.data,
    }


def test_the_registry_addresses_live_subscribed_endpoints_of_the_tenant_created_before_the_event():
    registry = Registry()
    created = wh.WebhookEndpointCreated(url="u", events=["recording.uploaded"], description="", secret="s")
    registry.apply(10, "a", "acme", created)
    registry.apply(11, "b", "other", created)
    registry.apply(
        12, "c", "acme", wh.WebhookEndpointCreated(url="u", events=["transcription.failed"], description="", secret="s")
    )
    registry.apply(20, "d", "acme", created)
    assert registry.subscribers("acme", "recording.uploaded", before_seq=15) == ["a"]
    assert registry.subscribers("acme", "recording.uploaded", before_seq=25) == ["a", "d"]
    registry.apply(30, "a", "acme", wh.WebhookEndpointDisabled(reason="x"))
    registry.apply(31, "d", "acme", wh.WebhookEndpointDeleted())
    registry.apply(31, "a", "acme", wh.WebhookEndpointUpdated(enabled=True))  # a replayed seq: ignored
    assert registry.subscribers("acme", "recording.uploaded", before_seq=40) == []
    registry.apply(32, "a", "acme", wh.WebhookEndpointUpdated(enabled=True, events=["recording.uploaded", "x"]))
    assert registry.subscribers("acme", "recording.uploaded", before_seq=40) == ["a"]
