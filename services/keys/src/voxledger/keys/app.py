"""Wiring: one durable pull subscriber on the key commands (COMMANDS `vl.cmd.key.*`) from the gateways.

This process alone holds the `keys` NATS identity, the only one that may append key events
(`vl.evt.key.>`); `--scale keys=N` shares the consumer.
"""

import asyncio
from dataclasses import dataclass

import structlog
from faststream.nats import NatsBroker

from voxledger.contracts import streams
from voxledger.contracts.envelope import Message
from voxledger.keys.handlers import KeyCommands
from voxledger.runtime.consumers import durable_pull
from voxledger.runtime.lifecycle import consume, nats_broker, start_service
from voxledger.runtime.settings import CommonSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Services:
    """What the process runs on: the broker (its one NATS connection) and the key command handler."""

    broker: NatsBroker
    commands: KeyCommands


async def bootstrap(settings: CommonSettings) -> Services:
    broker = nats_broker(settings, "keys")
    nc = await broker.connect()
    return Services(broker, KeyCommands(nc.jetstream()))


def subscribe(services: Services) -> None:
    @durable_pull(services.broker, streams.KEY_COMMANDS)  # as provisioned: an existing consumer keeps its settings
    async def on_key_command(message: Message) -> None:
        await services.commands.on_command(message)


async def serve(settings: CommonSettings) -> None:
    services = await bootstrap(settings)
    subscribe(services)
    log.info("keys.ready")
    await consume(services.broker, "keys")


def main() -> None:
    settings = start_service("keys", CommonSettings)
    asyncio.run(serve(settings))
