"""The WEBHOOKS work stream: deliveries queued per endpoint and recording, removed once settled (acked).

A delivery goes only when it is the oldest one left on its subject, so one endpoint gets one
recording's events one at a time and in log order, also across processes and restarts.
"""

import msgspec
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from voxledger.contracts import streams, subjects
from voxledger.contracts import webhooks as wh
from voxledger.runtime.broker import BROKER_PATIENCE_S, with_broker_retry

_encode = msgspec.json.Encoder().encode


def work_subject(work: wh.DeliveryWork) -> str:
    return subjects.webhook_work_subject(work.endpoint_id, work.resource_id)


class WorkQueue:
    def __init__(self, js: JetStreamContext):
        self._js = js

    async def enqueue(self, work: wh.DeliveryWork) -> None:
        """Durably queued; the delivery id is the message id, so a repeated fan-out queues it once."""
        subject, payload = work_subject(work), _encode(work)
        headers = {"Nats-Msg-Id": work.delivery_id}
        await with_broker_retry(
            lambda: self._js.publish(subject, payload, stream=streams.WEBHOOKS.name, headers=headers),
            f"queue {subject}",
            BROKER_PATIENCE_S,
        )

    async def is_next(self, subject: str, seq: int) -> bool:
        """Whether the delivery at `seq` is the oldest unsettled one on its subject."""
        try:
            first = await self._js.get_msg(streams.WEBHOOKS.name, seq=1, subject=subject, next=True)
        except NotFoundError:
            return True
        return (first.seq or 0) >= seq
