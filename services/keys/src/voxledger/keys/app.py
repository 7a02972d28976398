"""Wiring: one durable pull subscriber on the key commands (COMMANDS `vl.cmd.key.*`) from the gateways.

This process alone holds the `keys` NATS identity, the only one that may append key events
(`vl.evt.key.>`); `--scale keys=N` shares the consumer.
"""

import asyncio

import structlog
from faststream import AckPolicy, FastStream
from faststream.nats import JStream, NatsMessage, PullSub
from nats.aio.client import Client

from voxledger.contracts import streams
from voxledger.keys.handlers import KeyCommands
from voxledger.runtime.broker import connect, nats_access
from voxledger.runtime.lifecycle import faststream_logger, nats_broker, start_service
from voxledger.runtime.provisioning import consumer_config
from voxledger.runtime.settings import CommonSettings

log = structlog.get_logger(__name__)


def create_app(settings: CommonSettings) -> FastStream:
    broker = nats_broker(settings, "keys")
    started: list[tuple[Client, KeyCommands]] = []
    spec = streams.KEY_COMMANDS

    @broker.subscriber(
        spec.filter_subject,
        stream=JStream(spec.stream, declare=False),
        durable=spec.durable,
        config=consumer_config(spec),  # as provisioned: an existing consumer keeps its settings
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        ack_policy=AckPolicy.MANUAL,
    )
    async def on_key_command(msg: NatsMessage) -> None:
        await started[0][1].on_command(msg)

    app = FastStream(broker, logger=faststream_logger("keys"))

    @app.on_startup
    async def start() -> None:
        nc = await connect(nats_access(settings), "keys")
        started.append((nc, KeyCommands(nc.jetstream())))
        log.info("keys.ready")

    @app.after_shutdown
    async def stop() -> None:
        for nc, _ in started:
            await nc.drain()

    return app


def main() -> None:
    settings = start_service("keys", CommonSettings)
    asyncio.run(create_app(settings).run())
