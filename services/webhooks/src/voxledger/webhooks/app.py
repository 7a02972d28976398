"""Wiring: FastStream with durable pull subscribers in one process (`--scale webhooks=N` shares them).

- endpoint commands (COMMANDS `vl.cmd.wh.*`), decided by the endpoint Decider;
- the fan-out: the log events a tenant can subscribe to, one at a time, queued as deliveries;
- the deliveries (the WEBHOOKS work stream), several in flight, each retried by NAK with a delay;
- tenant settings commands.

Key commands are handled by their own process (voxledger.keys), the only one that may append key events.
"""

import asyncio
from dataclasses import dataclass

import structlog
from faststream.nats import NatsBroker, NatsMessage

from voxledger.contracts import streams, subjects
from voxledger.contracts import webhooks as wh
from voxledger.contracts.envelope import Message
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.consumers import durable_pull
from voxledger.runtime.eventstore import EventStore
from voxledger.runtime.lifecycle import consume, nats_broker, start_service
from voxledger.runtime.messaging import Settlement, structs
from voxledger.webhooks.adapters.registry import RegistryFollower
from voxledger.webhooks.adapters.sender import Sender
from voxledger.webhooks.adapters.workqueue import WorkQueue
from voxledger.webhooks.domain import delivery, endpoint
from voxledger.webhooks.handlers import Webhooks
from voxledger.webhooks.settings import WebhooksSettings
from voxledger.webhooks.tenant_commands import TenantCommands

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Services:
    """What the process runs on: the broker (its one NATS connection), the endpoint registry, the sender and
    the handlers."""

    broker: NatsBroker
    follower: RegistryFollower
    sender: Sender
    webhooks: Webhooks
    tenant_commands: TenantCommands

    async def drain(self) -> None:
        await self.follower.stop()  # while the connection is open

    async def close(self) -> None:
        await self.sender.close()


async def bootstrap(settings: WebhooksSettings) -> Services:
    broker = nats_broker(settings, "webhooks")
    js = (await broker.connect()).jetstream()
    store = EventStore(js)
    endpoints = AggregateRepository(store, subjects.WEBHOOK, endpoint.DECIDER)
    policy = settings.retry_policy
    deliveries = AggregateRepository(store, subjects.WEBHOOK_DELIVERY, delivery.decider(policy))
    follower = RegistryFollower(js)
    await follower.start()
    sender = Sender(
        settings.webhook_connect_timeout_s, settings.webhook_response_timeout_s, settings.webhook_allow_private
    )
    webhooks = Webhooks(
        endpoints, deliveries, follower, WorkQueue(js), sender, policy, settings.webhook_blocked_recheck_s
    )
    return Services(broker, follower, sender, webhooks, TenantCommands(js))


def subscribe(services: Services, delivery_concurrency: int) -> None:
    """The durable consumers as provisioned (an existing consumer keeps its settings)."""
    broker, webhooks = services.broker, services.webhooks

    @durable_pull(broker, streams.WEBHOOK_COMMANDS, workers=1)
    async def on_command(message: Message) -> None:
        await webhooks.on_command(message)

    @durable_pull(broker, streams.WEBHOOK_FANOUT, workers=1)
    async def on_source_event(message: Message, msg: NatsMessage) -> None:
        await webhooks.on_source_event(message, msg.raw_message.metadata.sequence.stream)

    @durable_pull(broker, streams.WEBHOOK_DELIVERIES, workers=delivery_concurrency, decoder=structs(wh.DeliveryWork))
    async def on_delivery(work: wh.DeliveryWork, msg: NatsMessage) -> Settlement:
        return await webhooks.on_delivery(work, msg)

    @durable_pull(broker, streams.TENANT_COMMANDS, workers=1)
    async def on_tenant_command(message: Message) -> None:
        await services.tenant_commands.on_command(message)


async def serve(settings: WebhooksSettings) -> None:
    services = await bootstrap(settings)
    subscribe(services, settings.webhook_concurrency)
    log.info("webhooks.ready", allow_private=settings.webhook_allow_private)
    await consume(services.broker, "webhooks", drain=services.drain, close=services.close)


def main() -> None:
    settings = start_service("webhooks", WebhooksSettings)
    asyncio.run(serve(settings))
