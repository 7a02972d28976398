"""One envelope and one codec for every message on the bus, commands and events alike."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

from voxledger.contracts import key_commands, webhooks
from voxledger.contracts.commands import COMMAND_TYPES, Command
from voxledger.contracts.events import EVENT_TYPES, EVENT_UPCASTERS, Event
from voxledger.contracts.ids import new_id

Body = Event | Command
MESSAGE_TYPES: dict[str, type[Body]] = {
    **EVENT_TYPES,
    **COMMAND_TYPES,
    **webhooks.EVENT_TYPES,
    **webhooks.COMMAND_TYPES,
    **key_commands.COMMAND_TYPES,
}

# (type, from_version) -> pure function turning that version's data into the next version's.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {**EVENT_UPCASTERS}


class Envelope(msgspec.Struct, kw_only=True, omit_defaults=True):
    event_id: str
    type: str
    schema_version: int
    aggregate_id: str
    tenant_id: str
    occurred_at: datetime
    causation_id: str | None = None
    correlation_id: str | None = None
    traceparent: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"{}")


B = TypeVar("B")


class Message(msgspec.Struct, frozen=True):
    envelope: Envelope
    body: Body

    def body_as(self, kind: type[B]) -> B:
        """The body as the type a subscriber's filter promises; anything else is a wiring error."""
        if not isinstance(self.body, kind):
            raise TypeError(f"expected {kind.__name__}, got {type(self.body).__name__}")
        return self.body


class UnknownMessage(Exception):
    """A type this code does not know, or a newer schema version than it understands."""


_encoder = msgspec.json.Encoder()
_envelope_decoder = msgspec.json.Decoder(Envelope)


def seal(
    body: Body,
    *,
    aggregate_id: str,
    tenant_id: str,
    causation_id: str | None = None,
    correlation_id: str | None = None,
    traceparent: str | None = None,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
) -> Message:
    envelope = Envelope(
        event_id=event_id or new_id(),
        type=type(body).__name__,
        schema_version=body.SCHEMA_VERSION,
        aggregate_id=aggregate_id,
        tenant_id=tenant_id,
        occurred_at=occurred_at or datetime.now(UTC),
        causation_id=causation_id,
        correlation_id=correlation_id,
        traceparent=traceparent,
    )
    return Message(envelope, body)


def encode(message: Message) -> bytes:
    envelope = msgspec.structs.replace(message.envelope, data=msgspec.Raw(_encoder.encode(message.body)))
    return _encoder.encode(envelope)


def decode_envelope(payload: bytes) -> Envelope:
    return _envelope_decoder.decode(payload)


def decode(payload: bytes) -> Message:
    envelope = decode_envelope(payload)
    body_type = MESSAGE_TYPES.get(envelope.type)
    if body_type is None:
        raise UnknownMessage(f"unknown message type {envelope.type!r}")
    if envelope.schema_version > body_type.SCHEMA_VERSION:
        raise UnknownMessage(
            f"{envelope.type} v{envelope.schema_version} is newer than the known v{body_type.SCHEMA_VERSION}"
        )
    if any((envelope.type, v) not in UPCASTERS for v in range(envelope.schema_version, body_type.SCHEMA_VERSION)):
        raise UnknownMessage(
            f"{envelope.type} v{envelope.schema_version} has no upcaster to v{body_type.SCHEMA_VERSION}"
        )
    if envelope.schema_version == body_type.SCHEMA_VERSION:
        body = msgspec.json.decode(envelope.data, type=body_type)
    else:
        body = msgspec.convert(_upcast(envelope), type=body_type)
    return Message(envelope, body)


def _upcast(envelope: Envelope) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.json.decode(envelope.data, type=dict[str, Any])
    for version in range(envelope.schema_version, MESSAGE_TYPES[envelope.type].SCHEMA_VERSION):
        data = UPCASTERS[(envelope.type, version)](data)
    return data
