"""Thin handlers: endpoint commands (decide, append), the fan-out of log events into queued deliveries,
and one delivery attempt (send, record the outcome as an event, then ack or NAK with the backoff).

Every effect is durable before the ack: a process killed at any point leaves its message to be
redelivered, and the retry state is JetStream's (the NAK delay, the work item), never this process's.
"""

import random
from datetime import UTC, datetime

import msgspec
import structlog
from faststream.nats.message import NatsMessage

from voxledger.contracts import webhooks as wh
from voxledger.contracts.decisions import Rejected
from voxledger.contracts.envelope import Envelope, Message
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.commands import handle_command
from voxledger.runtime.consumers import retry_delay_s
from voxledger.runtime.messaging import ACK, Nak, Settlement
from voxledger.webhooks.adapters.registry import RegistryFollower
from voxledger.webhooks.adapters.sender import Sender
from voxledger.webhooks.adapters.workqueue import WorkQueue
from voxledger.webhooks.domain import catalog
from voxledger.webhooks.domain.delivery import (
    DeliveryState,
    Drop,
    RecordAttempt,
    RetryPolicy,
    disable_reason,
)
from voxledger.webhooks.domain.endpoint import DisableEndpoint, Endpoint
from voxledger.webhooks.domain.signing import signed_headers

log = structlog.get_logger(__name__)
BLOCKED_MAX_S = 30.0


class Webhooks:
    def __init__(
        self,
        endpoints: AggregateRepository[Endpoint],
        deliveries: AggregateRepository[DeliveryState],
        follower: RegistryFollower,
        queue: WorkQueue,
        sender: Sender,
        policy: RetryPolicy,
        blocked_recheck_s: float,
    ):
        self._endpoints, self._deliveries = endpoints, deliveries
        self._follower, self._queue, self._sender = follower, queue, sender
        self._policy, self._blocked_recheck_s = policy, blocked_recheck_s

    async def on_command(self, message: Message) -> None:
        await handle_command(message, wh.WebhookCommand, self._run, bind=lambda cmd: {"endpoint_id": cmd.endpoint_id})

    async def _run(self, command: wh.WebhookCommand, cause: Envelope) -> list[Message]:
        return await self._endpoints.execute(await self._endpoints.load(command.endpoint_id), command, cause)

    async def on_source_event(self, message: Message, seq: int) -> None:
        """Queues one delivery per subscribed endpoint; acked once every one is queued (in log order)."""
        structlog.contextvars.bind_contextvars(type=message.envelope.type)
        for work in await self._plan(message, seq):
            await self._queue.enqueue(work)

    async def _plan(self, message: Message, seq: int) -> list[wh.DeliveryWork]:
        meta, body = message.envelope, message.body
        at = meta.occurred_at.isoformat()
        match body:
            case wh.WebhookTestRequested(test_id=test_id):
                probe = catalog.probe(meta.aggregate_id, test_id)
                return [catalog.work_for(probe, meta.event_id, meta.aggregate_id, meta.tenant_id, at)]
            case wh.WebhookRedeliveryRequested():
                return [_redelivery(meta, body)]
        event = catalog.outgoing(meta, body)
        if event is None:
            return []
        registry = await self._follower.current()
        return [
            catalog.work_for(event, meta.event_id, endpoint_id, meta.tenant_id, at)
            for endpoint_id in registry.subscribers(meta.tenant_id, event.event_type, before_seq=seq)
        ]

    async def on_delivery(self, work: wh.DeliveryWork, msg: NatsMessage) -> Settlement:
        """One attempt: acked once settled, NAKed until the next attempt is due; a failure is the frame's."""
        raw = msg.raw_message
        structlog.contextvars.bind_contextvars(delivery_id=work.delivery_id, endpoint_id=work.endpoint_id)
        if not await self._queue.is_next(raw.subject, raw.metadata.sequence.stream):
            # An earlier delivery of this recording has not settled: wait for it, without an attempt.
            blocked = raw.metadata.num_delivered or 1
            return Nak(min(retry_delay_s(blocked, self._blocked_recheck_s, 1.0), BLOCKED_MAX_S))
        try:
            retry_in_s = await self._attempt(work)
        except Rejected as err:
            log.info("webhook.delivery_settled", reason=err.message)  # settled by another attempt meanwhile
            return ACK
        return ACK if retry_in_s is None else Nak(retry_in_s)

    async def _attempt(self, work: wh.DeliveryWork) -> float | None:
        """Sends once and records the outcome; the seconds until the next attempt, or None once settled."""
        cause = _cause(work)
        delivery = await self._deliveries.load(work.delivery_id)
        if delivery.state.settled:
            return None
        endpoint = await self._endpoints.load(work.endpoint_id)
        state = endpoint.state
        if not state.live or not state.enabled:
            reason = "the endpoint was deleted" if not state.live else "the endpoint is disabled"
            await self._deliveries.execute(delivery, Drop(work=work, reason=reason), cause)
            log.info("webhook.delivery_dropped", reason=reason)
            return None
        now = datetime.now(UTC)
        body = msgspec.json.encode(work.payload)
        headers = signed_headers(work.webhook_id, now, body.decode(), state.secrets(now))
        result = await self._sender.post(state.url, headers, body)
        first = delivery.state.first_attempt_at or now
        recorded = await self._deliveries.execute(
            delivery, RecordAttempt(work=work, result=result, now=now, jitter=random.random()), cause
        )
        attempted = recorded[0].body
        assert isinstance(attempted, wh.WebhookDeliveryAttempted)
        log.info("webhook.attempted", attempt=attempted.attempt, outcome=attempted.outcome, status=result.status_code)
        if (why := disable_reason(self._policy, result, first, now)) is not None:
            await self._endpoints.execute(endpoint, DisableEndpoint(reason=why), cause)
            log.warning("webhook.endpoint_disabled", reason=why)
        if attempted.next_retry_at is None:
            return None
        return max(0.0, (datetime.fromisoformat(attempted.next_retry_at) - now).total_seconds())


def _redelivery(meta: Envelope, body: wh.WebhookRedeliveryRequested) -> wh.DeliveryWork:
    return wh.DeliveryWork(
        delivery_id=body.delivery_id,
        endpoint_id=meta.aggregate_id,
        tenant_id=meta.tenant_id,
        webhook_id=body.webhook_id,
        event_type=body.event_type,
        resource_id=body.resource_id,
        payload=body.payload,
        redelivery_of=body.original_delivery_id,
    )


def _cause(work: wh.DeliveryWork) -> Envelope:
    """What a delivery's events are caused by: its work item (the tenant's, for the read models)."""
    return Envelope(
        event_id=work.delivery_id,
        type="DeliveryWork",
        schema_version=1,
        aggregate_id=work.delivery_id,
        tenant_id=work.tenant_id,
        occurred_at=datetime.now(UTC),
    )
