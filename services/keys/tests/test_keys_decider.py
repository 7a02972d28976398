"""The API key aggregate's Decider: issued once, revoked at the earliest time asked for."""

from datetime import UTC, datetime, timedelta

from tests.decider import Scenario, names
from voxledger.contracts.events import ApiKeyIssued, ApiKeyRevoked, ApiKeyUsed
from voxledger.runtime import api_key
from voxledger.runtime.api_key import IssueKey, RevokeKey

NOW = datetime(2025, 1, 1, tzinfo=UTC)
ISSUED = ApiKeyIssued(key_hash="h" * 64, prefix="vl_abcdefg", label="ci", scope="member")


def scenario() -> Scenario:
    return Scenario(api_key.decide, api_key.evolve, api_key.DECIDER.initial)


def test_a_key_is_issued_once_whatever_a_redelivery_carries():
    keys = scenario()
    assert keys.when(IssueKey(event=ISSUED)) == [ISSUED]
    other = ApiKeyIssued(key_hash="x" * 64, prefix="vl_other00", label="other", scope="admin")
    assert keys.when(IssueKey(event=other)) == []
    assert keys.state.issued == ISSUED


def test_a_revocation_is_appended_once_and_an_earlier_one_still_counts():
    keys = scenario().given(ISSUED, ApiKeyUsed(at=NOW))
    later = NOW + timedelta(minutes=5)
    rotated = keys.when(RevokeKey(effective_at=later, replaced_by="key-2"))
    assert rotated == [ApiKeyRevoked(effective_at=later, reason="rotated", replaced_by="key-2")]
    assert keys.when(RevokeKey(effective_at=later + timedelta(minutes=1))) == []  # revoked by then already
    assert names(keys.when(RevokeKey(effective_at=NOW))) == ["ApiKeyRevoked"]  # an earlier end: it counts
    assert keys.state.revoked_at == NOW


def test_an_unknown_key_cannot_be_revoked():
    assert scenario().rejects(RevokeKey(effective_at=NOW)) == "unknown_key"
