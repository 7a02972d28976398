"""One envelope and one codec for every message on the bus, commands and events alike."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

from voxledger.contracts import catalogue, key_commands, retention, sealing, webhooks
from voxledger.contracts.commands import COMMAND_TYPES, COMMAND_UPCASTERS, Command
from voxledger.contracts.events import EVENT_UPCASTERS, Event
from voxledger.contracts.ids import new_id

Body = Event | Command
MESSAGE_TYPES: dict[str, type[Body]] = {
    **catalogue.EVENT_TYPES,
    **COMMAND_TYPES,
    **webhooks.COMMAND_TYPES,
    **key_commands.COMMAND_TYPES,
    **retention.COMMAND_TYPES,
}

# (type, from_version) -> pure function turning that version's data into the next version's.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {**EVENT_UPCASTERS, **COMMAND_UPCASTERS}


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
    # How many events of the same append follow this one: a command's effects are all in the log at 0.
    commit_remaining: int = 0
    data: msgspec.Raw = msgspec.Raw(b"{}")


B = TypeVar("B")


class Message(msgspec.Struct, frozen=True):
    envelope: Envelope
    body: Body
    erased: bool = False  # sealed, and its key is gone: the body's sensitive fields are blank placeholders

    def body_as(self, kind: type[B]) -> B:
        """The body as the type a subscriber's filter promises; anything else is a wiring error."""
        if not isinstance(self.body, kind):
            raise TypeError(f"expected {kind.__name__}, got {type(self.body).__name__}")
        return self.body


class UnknownMessage(Exception):
    """A type this code does not know, or a newer schema version than it understands."""


class KeyRequired(Exception):
    """A sealed message was decoded without a way to look up its data key: a wiring error."""


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
    commit_remaining: int = 0,
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
        commit_remaining=commit_remaining,
    )
    return Message(envelope, body)


def encode(message: Message, cipher: sealing.PayloadCipher | None = None) -> bytes:
    """With a cipher, a type that has sealed fields gets them encrypted; without one, all stays in clear."""
    env = message.envelope
    if cipher is not None and env.type in sealing.SEALED_FIELDS:
        aad = sealing.associated_data(env.aggregate_id, env.type, env.event_id)
        data = sealing.seal_fields(msgspec.to_builtins(message.body), env.type, cipher, aad, _encoder.encode)
        raw = msgspec.Raw(_encoder.encode(data))
    else:
        raw = msgspec.Raw(_encoder.encode(message.body))
    return _encoder.encode(msgspec.structs.replace(env, data=raw))


def needs_key(env: Envelope) -> bool:
    """Whether decoding this message may need its recording's data key."""
    return env.type in sealing.SEALED_FIELDS


def decode_envelope(payload: bytes) -> Envelope:
    return _envelope_decoder.decode(payload)


def decode(payload: bytes, ciphers: sealing.CipherLookup | None = None) -> Message:
    """`ciphers` finds a sealed message's data key; a key that is gone decodes as an erased message."""
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
    if envelope.type in sealing.SEALED_FIELDS:
        data, erased = _open(envelope, ciphers)
        return Message(envelope, msgspec.convert(_upcast(envelope, data), type=body_type), erased)
    if envelope.schema_version == body_type.SCHEMA_VERSION:
        body = msgspec.json.decode(envelope.data, type=body_type)
    else:
        body = msgspec.convert(_upcast(envelope), type=body_type)
    return Message(envelope, body)


_dict_decoder = msgspec.json.Decoder(dict[str, Any])


def _open(envelope: Envelope, ciphers: sealing.CipherLookup | None) -> tuple[dict[str, Any], bool]:
    data = _dict_decoder.decode(envelope.data)
    if sealing.SEALED_FIELD not in data:
        return data, False
    if ciphers is None:
        raise KeyRequired(f"{envelope.type} {envelope.event_id} is sealed and no key lookup was given")
    aad = sealing.associated_data(envelope.aggregate_id, envelope.type, envelope.event_id)
    return sealing.open_fields(data, envelope.type, ciphers(envelope.aggregate_id), aad, _dict_decoder.decode)


def _upcast(envelope: Envelope, data: dict[str, Any] | None = None) -> dict[str, Any]:
    if data is None:
        data = _dict_decoder.decode(envelope.data)
    for version in range(envelope.schema_version, MESSAGE_TYPES[envelope.type].SCHEMA_VERSION):
        data = UPCASTERS[(envelope.type, version)](data)
    return data
