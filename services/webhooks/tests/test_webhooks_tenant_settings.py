"""The tenant settings aggregate's Decider: a retention change that changes nothing decides nothing."""

from tests.decider import Scenario
from voxledger.contracts.retention import ChangeRetention, RetentionChanged
from voxledger.webhooks.domain import tenant


def test_a_retention_change_is_appended_only_when_it_changes_the_setting():
    settings = Scenario(tenant.decide, tenant.evolve, tenant.DECIDER.initial)
    assert settings.when(ChangeRetention(retention_days=30)) == [RetentionChanged(retention_days=30)]
    assert settings.when(ChangeRetention(retention_days=30)) == []  # a redelivery
    assert settings.when(ChangeRetention(retention_days=None)) == [RetentionChanged(retention_days=None)]
    assert tenant.DECIDER.fold(settings.history) == settings.state
