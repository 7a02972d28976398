"""What every command handler shares inside the frame (runtime/messaging.py: decode, trace, settle): the log
context and a span around the service's `run`.

A service brings only its `run` (load, decide, append; it returns the messages it appended). Returning
acks the command; what `run` raises is settled by the frame's one policy: a Rejected command is terminated,
a concurrency conflict retried soon, any other failure NAKed with a delay.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import structlog
from opentelemetry import trace

from voxledger.contracts.envelope import Envelope, Message

log = structlog.get_logger(__name__)
tracer = trace.get_tracer("voxledger.commands")

C = TypeVar("C")


async def handle_command(
    message: Message,
    accepts: Any,
    run: Callable[[C, Envelope], Awaitable[Sequence[Message]]],
    *,
    bind: Callable[[C], Mapping[str, str]] | None = None,
) -> None:
    """Handles one decoded command. `accepts` is what `isinstance` takes (a command class or a union of
    them); `bind` names the aggregate in the log context."""
    meta, command = message.envelope, message.body
    if not isinstance(command, accepts):  # the consumer's filter admits these commands only
        raise TypeError(f"not a command of this handler: {meta.type}")
    context = {"tenant": meta.tenant_id, "command": meta.type, **(bind(command) if bind else {})}
    structlog.contextvars.bind_contextvars(**context)  # until the frame has settled the message
    with tracer.start_as_current_span(f"handle {meta.type}"):
        appended = await run(command, meta)
        log.info("command.handled", events=[m.envelope.type for m in appended])
