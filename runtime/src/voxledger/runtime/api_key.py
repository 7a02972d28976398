"""The API key aggregate as a Decider: issued once, revoked at the earliest time asked for.

Its last-use reports (ApiKeyUsed) decide nothing, so they leave the state as it is.
"""

from datetime import datetime

import msgspec
from msgspec.structs import replace

from voxledger.contracts.decisions import Decider, Rejected
from voxledger.contracts.events import ApiKeyEvent, ApiKeyIssued, ApiKeyRevoked, Event


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    issued: ApiKeyIssued | None = None
    revoked_at: datetime | None = None  # the earliest revocation's effective time


class IssueKey(msgspec.Struct, frozen=True, kw_only=True):
    event: ApiKeyIssued


class RevokeKey(msgspec.Struct, frozen=True, kw_only=True):
    effective_at: datetime
    replaced_by: str | None = None  # set: the key was rotated to this one


KeyDecision = IssueKey | RevokeKey


def evolve(state: ApiKey, event: ApiKeyEvent | Event) -> ApiKey:
    match event:
        case ApiKeyIssued():
            return replace(state, issued=event)
        case ApiKeyRevoked(effective_at=at) if state.revoked_at is None or at < state.revoked_at:
            return replace(state, revoked_at=at)
    return state


def decide(command: KeyDecision, state: ApiKey) -> list[ApiKeyEvent]:
    """Both are idempotent: a key issued already stays as it is; one revoked by then is not revoked again."""
    if isinstance(command, IssueKey):
        return [] if state.issued is not None else [command.event]
    if state.issued is None:
        raise Rejected("unknown_key", "no such key")
    if state.revoked_at is not None and state.revoked_at <= command.effective_at:
        return []
    return [
        ApiKeyRevoked(
            effective_at=command.effective_at,
            reason="rotated" if command.replaced_by else "revoked",
            replaced_by=command.replaced_by,
        )
    ]


DECIDER: Decider[KeyDecision, ApiKeyEvent, ApiKey] = Decider(initial=ApiKey(), decide=decide, evolve=evolve)
