"""Wiring: FastStream with three durable pull subscribers in one process (`--scale webhooks=N` shares them).

- endpoint commands (COMMANDS `vl.cmd.wh.*`), decided by the endpoint Decider;
- the fan-out: the log events a tenant can subscribe to, one at a time, queued as deliveries;
- the deliveries (the WEBHOOKS work stream), several in flight, each retried by NAK with a delay.

Key commands are handled by their own process (voxledger.keys), the only one that may append key events.
"""

import asyncio
from dataclasses import dataclass

import structlog
from faststream import AckPolicy, FastStream
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.aio.client import Client

from voxledger.contracts import streams, subjects
from voxledger.runtime.aggregates import AggregateRepository
from voxledger.runtime.broker import connect, nats_access
from voxledger.runtime.eventstore import EventStore
from voxledger.runtime.lifecycle import faststream_logger, nats_broker, start_service
from voxledger.runtime.provisioning import consumer_config
from voxledger.webhooks.adapters.registry import RegistryFollower
from voxledger.webhooks.adapters.sender import Sender
from voxledger.webhooks.adapters.workqueue import WorkQueue
from voxledger.webhooks.domain import delivery, endpoint
from voxledger.webhooks.handlers import Webhooks
from voxledger.webhooks.settings import WebhooksSettings
from voxledger.webhooks.tenant_commands import TenantCommands

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class _Started:
    nc: Client
    follower: RegistryFollower
    sender: Sender
    webhooks: Webhooks
    tenant_commands: TenantCommands


def _subscriber(broker: NatsBroker, spec: streams.ConsumerSpec, workers: int = 1):
    return broker.subscriber(
        spec.filter_subject,
        stream=JStream(spec.stream, declare=False),
        durable=spec.durable,
        config=consumer_config(spec),  # as provisioned: an existing consumer keeps its settings
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        ack_policy=AckPolicy.MANUAL,
        max_workers=workers,
    )


def create_app(settings: WebhooksSettings) -> FastStream:
    broker = nats_broker(settings, "webhooks")
    started: list[_Started] = []

    @_subscriber(broker, streams.WEBHOOK_COMMANDS)
    async def on_command(msg: NatsMessage) -> None:
        await started[0].webhooks.on_command(msg)

    @_subscriber(broker, streams.WEBHOOK_FANOUT)
    async def on_source_event(msg: NatsMessage) -> None:
        await started[0].webhooks.on_source_event(msg)

    @_subscriber(broker, streams.WEBHOOK_DELIVERIES, settings.webhook_concurrency)
    async def on_delivery(msg: NatsMessage) -> None:
        await started[0].webhooks.on_delivery(msg)

    @_subscriber(broker, streams.TENANT_COMMANDS)
    async def on_tenant_command(msg: NatsMessage) -> None:
        await started[0].tenant_commands.on_command(msg)

    app = FastStream(broker, logger=faststream_logger("webhooks"))

    @app.on_startup
    async def start() -> None:
        nc = await connect(nats_access(settings), "webhooks")
        js = nc.jetstream()
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
        started.append(_Started(nc, follower, sender, webhooks, TenantCommands(js)))
        log.info("webhooks.ready", allow_private=settings.webhook_allow_private)

    @app.after_shutdown
    async def stop() -> None:
        for running in started:
            await running.follower.stop()
            await running.sender.close()
            await running.nc.drain()

    return app


def main() -> None:
    settings = start_service("webhooks", WebhooksSettings)
    asyncio.run(create_app(settings).run())
