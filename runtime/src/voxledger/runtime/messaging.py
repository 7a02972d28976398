"""The frame every FastStream subscriber shares: a decoder for the envelope, and one middleware, `Frame`, that
attaches the message's trace and settles it by the one policy.

- `envelopes(vault)` is a subscriber's decoder: its handler receives the decoded `Message` (envelope and typed
  body), sealed fields opened through the vault, or read blank without one.
- `Frame` (every broker's middleware, see `runtime.lifecycle.nats_broker`) runs the handler inside the trace
  context of the message's `traceparent` header, so a handler's span joins its request's trace, then settles
  the message: acked when the handler returns nothing, or as the `Settlement` it returns (`Nak` with a delay,
  `TERM`, or `HELD`: the handler took the message over and settles it itself later). A failure is settled by
  `settlement_of`: a message no version of this code can read, and a Rejected decision, are terminated (no
  redelivery changes them); a concurrency conflict (another writer landed first) is retried soon, to decide
  again; any other failure is transient: NAKed with a delay, and JetStream redelivers it.

Acks come last, once the handler's effects are appended, so a process killed at any point leaves the message
to be redelivered.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import structlog
from faststream import BaseMiddleware
from faststream.message import StreamMessage
from opentelemetry import context as otel_context

from voxledger.contracts import envelope
from voxledger.contracts.decisions import Rejected
from voxledger.runtime.codec import CONTENT_BLIND, Codec, codec
from voxledger.runtime.eventstore import ConcurrencyConflict
from voxledger.runtime.telemetry import context_from_headers

log = structlog.get_logger(__name__)

TRANSIENT_RETRY_S = 1.0
CONFLICT_RETRY_S = 0.1


class Nak(msgspec.Struct, frozen=True):
    """Redelivered after `delay_s` (at once without one)."""

    delay_s: float | None = None


class Ack(msgspec.Struct, frozen=True):
    pass


class Term(msgspec.Struct, frozen=True):
    pass


class Held(msgspec.Struct, frozen=True):
    """The handler keeps the message (a long job in the background) and settles it itself."""


Settlement = Ack | Nak | Term | Held
ACK, TERM, HELD = Ack(), Term(), Held()

Decoder = Callable[[StreamMessage[Any]], Awaitable[Any]]


class Undecodable(Exception):
    """A message no version of this code can read: retrying cannot help."""


def envelopes(vault: Codec | None = None) -> Decoder:
    """The decoder of envelope messages; without a vault, sealed fields read blank (for consumers that need no
    content)."""
    chosen = codec(vault, CONTENT_BLIND)

    async def decode(msg: StreamMessage[Any]) -> envelope.Message:
        try:
            return await chosen.decode(msg.body)
        except (envelope.UnknownMessage, ValueError) as err:
            raise Undecodable(str(err)) from err

    return decode


def structs(kind: type[Any]) -> Decoder:
    """The decoder of a plain msgspec Struct (a work item that is not an envelope)."""

    async def decode(msg: StreamMessage[Any]) -> Any:
        try:
            return msgspec.json.decode(msg.body, type=kind)
        except (msgspec.DecodeError, msgspec.ValidationError) as err:
            raise Undecodable(str(err)) from err

    return decode


async def raw(msg: StreamMessage[Any]) -> Any:
    """The decoder that hands over the message as the client received it (nats-py's `Msg`)."""
    return msg.raw_message


def settlement_of(err: Exception) -> Settlement:
    """The one policy for a handler that raised, with why logged."""
    match err:
        case Undecodable():
            log.error("message.undecodable", error=str(err))
            return TERM
        case Rejected():
            log.warning("command.rejected", code=err.code, reason=err.message)
            return TERM
        case ConcurrencyConflict():
            log.info("command.conflicted")
            return Nak(CONFLICT_RETRY_S)
    log.error("message.failed_transiently", exc_info=err)
    return Nak(TRANSIENT_RETRY_S)


async def settle(msg: StreamMessage[Any], settlement: Settlement) -> None:
    match settlement:
        case Ack():
            await msg.ack()
        case Term():
            await msg.reject()
        case Nak(delay_s=delay_s):
            await msg.nack(delay=delay_s)  # type: ignore[call-arg]  # NatsMessage.nack takes the delay


async def framed(msg: StreamMessage[Any], handler: Callable[[StreamMessage[Any]], Awaitable[Any]]) -> None:
    """Runs `handler` on `msg` in the message's trace context, then settles the message by the policy. What the
    handler binds to the log context (`structlog.contextvars.bind_contextvars`) stays on the frame's own lines
    about the message, and is gone after it."""
    token = otel_context.attach(context_from_headers(msg.headers))
    logged = structlog.contextvars.get_contextvars()
    try:
        try:
            outcome = await handler(msg)
        except Exception as err:
            outcome = settlement_of(err)
        await settle(msg, outcome if outcome is not None else ACK)
    finally:
        otel_context.detach(token)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**logged)


class Frame(BaseMiddleware):
    """Every subscriber's handler runs `framed`: in the message's trace context, the message settled once, here."""

    async def consume_scope(self, call_next: Callable[[Any], Awaitable[Any]], msg: StreamMessage[Any]) -> Any:
        await framed(msg, call_next)
