"""The frame every command handler shares: decode, trace and log, run, then settle the message.

A service brings only its `run` (load, decide, append; it returns the messages it appended). Around it:
a message no version can read is terminated; the log context and a span (a child of the envelope's
traceparent, so a command joins its request's trace) cover the work; a Rejected command is terminated, as
no redelivery can change that decision; a concurrency conflict (another writer landed first) is retried
soon, to decide again; any other failure is transient: NAKed with a delay, and JetStream redelivers it.
The ack comes last, once the effects are appended, so a process killed at any point leaves the command to
be redelivered.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import structlog
from opentelemetry import trace

from voxledger.contracts.decisions import Rejected
from voxledger.contracts.envelope import Envelope, Message
from voxledger.runtime.consumers import Acknowledgeable, decode_or_reject
from voxledger.runtime.eventstore import ConcurrencyConflict
from voxledger.runtime.telemetry import context_from_traceparent

if TYPE_CHECKING:
    from voxledger.runtime.vault import Vault

log = structlog.get_logger(__name__)
tracer = trace.get_tracer("voxledger.commands")

TRANSIENT_RETRY_S = 1.0
CONFLICT_RETRY_S = 0.1

C = TypeVar("C")


class Settleable(Acknowledgeable, Protocol):
    async def ack(self) -> None: ...

    async def nack(self, delay: float | None = None) -> None: ...


async def handle_command(
    msg: Settleable,
    accepts: Any,
    run: Callable[[C, Envelope], Awaitable[Sequence[Message]]],
    *,
    vault: "Vault | None" = None,
    bind: Callable[[C], Mapping[str, str]] | None = None,
) -> None:
    """Handles one command message. `accepts` is what `isinstance` takes (a command class or a union of
    them); `bind` names the aggregate in the log context; a `vault` opens sealed fields."""
    if (message := await decode_or_reject(msg, vault)) is None:
        return
    meta, command = message.envelope, message.body
    if not isinstance(command, accepts):  # the consumer's filter admits these commands only
        raise TypeError(f"not a command of this handler: {meta.type}")
    context = {"tenant": meta.tenant_id, "command": meta.type, **(bind(command) if bind else {})}
    with (
        structlog.contextvars.bound_contextvars(**context),
        tracer.start_as_current_span(f"handle {meta.type}", context=context_from_traceparent(meta.traceparent)),
    ):
        try:
            appended = await run(command, meta)
        except Rejected as err:
            log.warning("command.rejected", code=err.code, reason=err.message)
            await msg.reject()
            return
        except ConcurrencyConflict:
            log.info("command.conflicted")
            await msg.nack(delay=CONFLICT_RETRY_S)
            return
        except Exception:
            log.exception("command.failed_transiently")
            await msg.nack(delay=TRANSIENT_RETRY_S)
            return
        log.info("command.handled", events=[m.envelope.type for m in appended])
        await msg.ack()
