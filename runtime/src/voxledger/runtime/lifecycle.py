"""One way to start and stop a service: settings, logging and tracing, the stop signal, the worker's name.

Every service's `main()` is `start_service(...)` followed by its own `serve`, which reads "bootstrap, then
consume or serve": `bootstrap(settings)` builds the process's frozen `Services` on its one NATS connection
(a consuming service's is its FastStream broker's), then `consume` runs the subscribers. Every
long-running loop stops on the same `stop` event, set by SIGTERM or SIGINT.
"""

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

from faststream import FastStream
from faststream.nats import NatsBroker

from voxledger.runtime.broker import RECONNECT_WAIT_S, log_nats_error, nats_access
from voxledger.runtime.logging import configure_logging
from voxledger.runtime.messaging import Frame
from voxledger.runtime.settings import CommonSettings, load_or_exit
from voxledger.runtime.telemetry import setup_tracing

S = TypeVar("S", bound=CommonSettings)
Hook = Callable[[], Awaitable[None]]


def start_service(service: str, settings_type: type[S]) -> S:
    """The service's settings (a bad one ends the process with one line), with logging and tracing set up."""
    settings = load_or_exit(settings_type)
    configure_logging(service, settings.log_format, settings.log_level)
    setup_tracing(service)
    return settings


def worker_name(configured: str = "") -> str:
    """Who holds a lease or runs an attempt. The pid keeps a restarted process apart from its dead
    predecessor, so a takeover is visible even when the configured name stays the same."""
    return f"{configured or socket.gethostname()}-{os.getpid()}"


def worker_id(configured: str = "") -> str:
    """Who runs an attempt or holds a live session, as tenants see it too (a job's and its events' `worker`):
    the replica's configured name and a random instance, never the host or the pid. A new process is a new
    worker, so a takeover is visible even when the configured name stays the same."""
    return f"{configured or 'worker'}-{secrets.token_hex(4)}"


def stop_on_signals() -> asyncio.Event:
    """An event that SIGTERM and SIGINT set: the one way a service is asked to stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Waits `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def nats_broker(settings: CommonSettings, service: str) -> NatsBroker:
    """The FastStream broker of a consuming service: its one NATS connection (named after the service, with
    its own identity) for the subscribers, JetStream, KV and the object store; reconnects forever, logs
    through structlog. Its middleware, `Frame`, gives every subscriber the same trace context and settle policy."""
    access = nats_access(settings)
    return NatsBroker(
        access.servers,
        name=service,
        max_reconnect_attempts=-1,
        reconnect_time_wait=RECONNECT_WAIT_S,  # type: ignore[arg-type]  # FastStream annotates int; nats-py takes seconds
        error_cb=log_nats_error,
        logger=faststream_logger(service),
        log_level=logging.DEBUG,  # per-message "Received/Processed" lines only at debug
        middlewares=[Frame],
        **access.options(),
    )


def faststream_logger(service: str) -> logging.Logger:
    return logging.getLogger(f"voxledger.{service}.faststream")  # rendered by structlog like every other line


async def consume(broker: NatsBroker, service: str, *, drain: Hook | None = None, close: Hook | None = None) -> None:
    """Runs the broker's subscribers until SIGTERM or SIGINT. `drain` runs first, while the subscribers and the
    connection still work (work in hand finishes); then the subscribers stop and the connection drains; then
    `close` releases what is not NATS (model processes, HTTP clients)."""
    app = FastStream(
        broker,
        logger=faststream_logger(service),
        on_shutdown=[drain] if drain else (),
        after_shutdown=[close] if close else (),
    )
    await app.run()
