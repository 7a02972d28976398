"""The broker connection: connect, ride out a restart, and publish a command durably.

Publishes carry a `Nats-Msg-Id`, so an operation retried while NATS restarts lands once.
"""

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

from voxledger.contracts import subjects
from voxledger.contracts.envelope import Message
from voxledger.runtime.codec import Codec, codec
from voxledger.runtime.logging import get_logger
from voxledger.runtime.settings import CommonSettings

log = get_logger(__name__)

RECONNECT_WAIT_S = 0.5
BROKER_PATIENCE_S = 60.0  # a worker rides out a broker restart instead of failing the attempt
T = TypeVar("T")

# The broker is restarting or unreachable: the request may not have landed, or its answer was lost.
BROKER_UNAVAILABLE_ERRORS = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
)


class BrokerUnavailable(Exception):
    """NATS did not answer within the caller's patience; nothing was acknowledged, so nothing is promised."""


async def with_broker_retry(operation: Callable[[], Awaitable[T]], what: str, patience_s: float) -> T:
    """Runs `operation` again while the broker is unavailable, for up to `patience_s`.

    Only for idempotent operations: a publish carries its Nats-Msg-Id, so a retry of one that
    did land (its ack was lost) is dropped by JetStream as a duplicate, or, for an append, found
    on top of the aggregate by the event store.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_s
    delay = 0.1
    while True:
        try:
            return await operation()
        except BROKER_UNAVAILABLE_ERRORS as err:
            if loop.time() + delay >= deadline:
                raise BrokerUnavailable(f"{what}: NATS did not answer within {patience_s:.0f} s") from err
            log.warning("nats.retrying", what=what, error=type(err).__name__, retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


class NatsAccess(msgspec.Struct, frozen=True, kw_only=True):
    """Where NATS is and who this connection is to it (see runtime/nats_permissions.py for what each role may do)."""

    url: str  # one server, or a cluster: its nodes comma-separated
    nkey_seed_file: str = ""  # empty: no authentication (a server without it)
    tls_ca_file: str = ""

    @property
    def servers(self) -> list[str]:
        """`url` as nats-py and FastStream take it: a cluster is a comma-separated list of its nodes' URLs."""
        return [server.strip() for server in self.url.split(",") if server.strip()]

    def options(self) -> dict[str, Any]:
        """The nats-py connect options for this identity; FastStream's broker takes the same."""
        options: dict[str, Any] = {}
        if self.nkey_seed_file:
            options["nkeys_seed"] = self.nkey_seed_file
        if self.tls_ca_file:
            options["tls"] = ssl.create_default_context(cafile=self.tls_ca_file)
        return options


def nats_access(settings: CommonSettings) -> NatsAccess:
    """The one way a service learns its NATS identity: from its settings, read once at start."""
    return NatsAccess(
        url=settings.nats_url, nkey_seed_file=settings.nats_nkey_seed_file, tls_ca_file=settings.nats_tls_ca_file
    )


async def log_nats_error(err: Exception) -> None:
    log.warning("nats.error", error=str(err))


async def connect(access: NatsAccess, name: str) -> Client:
    """A connection outside FastStream (the gateway, the CLI, tests); a consuming service's is its broker's."""
    return await nats.connect(
        access.servers,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=RECONNECT_WAIT_S,
        error_cb=log_nats_error,
        **access.options(),
    )


def message_headers(message: Message) -> dict[str, str]:
    headers = {"Nats-Msg-Id": message.envelope.event_id}
    if message.envelope.traceparent:
        headers["traceparent"] = message.envelope.traceparent
    return headers


async def publish_command(
    js: JetStreamContext,
    target: str,
    message: Message,
    dedup_key: str,
    patience_s: float = BROKER_PATIENCE_S,
    vault: Codec | None = None,
) -> int:
    """One durable publish. The dedup key (client Idempotency-Key or generated) makes retries harmless.
    With a vault, a command's sensitive fields are sealed (UploadRecording's filename)."""
    headers = message_headers(message)
    headers["Nats-Msg-Id"] = dedup_key
    subject = subjects.command_subject(target, message.envelope.type)
    payload = await codec(vault).encode(message)
    ack = await with_broker_retry(lambda: js.publish(subject, payload, headers=headers), f"send {subject}", patience_s)
    return ack.seq
