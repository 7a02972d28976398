"""Which log events become which webhook events, with what payload; and the ids a delivery goes by.

A payload carries ids, a status and links, never the transcript or anything else a tenant uploaded.
"""

import uuid
from typing import Any

import msgspec

from voxledger.contracts import events as ev
from voxledger.contracts import webhooks as wh
from voxledger.contracts.envelope import Envelope

# Delivery ids derive from the event and the endpoint: a fan-out repeated after a crash queues the same
# delivery (the work stream drops it as a duplicate), and every retry carries the same `webhook-id`.
DELIVERY_IDS = uuid.UUID("9b3c2f4e-1d5a-4e7b-8c6d-0a1b2c3d4e5f")


class Outgoing(msgspec.Struct, frozen=True, kw_only=True):
    """A webhook event, before it is addressed to endpoints."""

    event_type: str
    resource_id: str  # deliveries of one endpoint and resource go in log order, one at a time
    data: dict[str, Any]


def _recording_links(recording_id: str, job_id: str | None = None) -> dict[str, str]:
    links = {"recording": f"/v1/recordings/{recording_id}"}
    if job_id:
        links |= {"job": f"/v1/jobs/{job_id}", "transcript": f"/v1/recordings/{recording_id}/transcript"}
    return links


def outgoing(meta: Envelope, body: object) -> Outgoing | None:
    """The webhook event a log event stands for, or None if it stands for none."""
    rid = meta.aggregate_id
    match body:
        case ev.RecordingUploaded():
            data: dict[str, Any] = {"recording_id": rid, "status": "uploaded", "links": _recording_links(rid)}
            return Outgoing(event_type="recording.uploaded", resource_id=rid, data=data)
        case ev.TranscriptionCompleted(job_id=job_id):
            data = {
                "recording_id": rid,
                "job_id": job_id,
                "status": "completed",
                "links": _recording_links(rid, job_id),
            }
            return Outgoing(event_type="transcription.completed", resource_id=rid, data=data)
        case ev.TranscriptionFailed(job_id=job_id, error_code=code):
            links = _recording_links(rid) | {"job": f"/v1/jobs/{job_id}"}
            data = {"recording_id": rid, "job_id": job_id, "status": "failed", "error_code": code, "links": links}
            return Outgoing(event_type="transcription.failed", resource_id=rid, data=data)
        case ev.TranscriptionCancelled(job_id=job_id):
            links = _recording_links(rid) | {"job": f"/v1/jobs/{job_id}"}
            data = {"recording_id": rid, "job_id": job_id, "status": "cancelled", "links": links}
            return Outgoing(event_type="transcription.cancelled", resource_id=rid, data=data)
        case ev.InsightsCompleted(job_id=job_id, run_id=run_id, ready=ready, failed=failed):
            links = _recording_links(rid) | {"insights": f"/v1/recordings/{rid}/insights?job_id={job_id}"}
            data = {"recording_id": rid, "job_id": job_id, "run_id": run_id, "status": "completed"}
            data |= {"ready": list(ready), "failed": list(failed), "links": links}
            return Outgoing(event_type="insights.completed", resource_id=rid, data=data)
        case ev.LiveSessionEnded(job_id=job_id, reason=reason):
            links = _recording_links(rid, job_id) | {"live_session": f"/v1/live/sessions/{rid}"}
            data = {"session_id": rid, "recording_id": rid, "job_id": job_id, "status": "ended", "reason": reason}
            return Outgoing(event_type="live_session.ended", resource_id=rid, data={**data, "links": links})
    return None


def probe(endpoint_id: str, test_id: str) -> Outgoing:
    data = {
        "endpoint_id": endpoint_id,
        "test_id": test_id,
        "status": "test",
        "links": {"webhook": f"/v1/webhooks/{endpoint_id}"},
    }
    return Outgoing(event_type=wh.TEST_EVENT_TYPE, resource_id=endpoint_id, data=data)


def delivery_id(source_event_id: str, endpoint_id: str) -> str:
    return str(uuid.uuid5(DELIVERY_IDS, f"{source_event_id}\0{endpoint_id}"))


def webhook_id(delivery: str) -> str:
    """Standard Webhooks' message id: the same on every retry of the delivery (and on a redelivery)."""
    return f"msg_{uuid.UUID(delivery).hex}"


def payload(event: Outgoing, timestamp: str) -> dict[str, Any]:
    return {"type": event.event_type, "timestamp": timestamp, "data": event.data}


def work_for(
    event: Outgoing, source_event_id: str, endpoint_id: str, tenant_id: str, timestamp: str
) -> wh.DeliveryWork:
    delivery = delivery_id(source_event_id, endpoint_id)
    return wh.DeliveryWork(
        delivery_id=delivery,
        endpoint_id=endpoint_id,
        tenant_id=tenant_id,
        webhook_id=webhook_id(delivery),
        event_type=event.event_type,
        resource_id=event.resource_id,
        payload=payload(event, timestamp),
    )
