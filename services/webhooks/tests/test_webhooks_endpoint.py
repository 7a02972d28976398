"""The endpoint Decider: each command decides once; a repeat (a redelivered message) decides nothing."""

from datetime import UTC, datetime, timedelta

from tests.decider import Scenario, names
from voxledger.contracts import webhooks as wh
from voxledger.webhooks.domain.endpoint import DisableEndpoint, Endpoint, decide, evolve, fold

EID = "0190f0c0-0000-7000-8000-0000000000e1"
CREATE = wh.CreateWebhookEndpoint(
    endpoint_id=EID, url="https://example.com/h", events=["recording.uploaded"], secret="whsec_a", description="d"
)


def created() -> Scenario[Endpoint]:
    return Scenario(decide, evolve, Endpoint()).given(*decide(CREATE, Endpoint()))


def test_create_decides_once_and_a_repeat_is_harmless():
    scenario = Scenario(decide, evolve, Endpoint())
    assert names(scenario.when(CREATE)) == ["WebhookEndpointCreated"]
    assert scenario.when(CREATE) == []
    other = wh.CreateWebhookEndpoint(endpoint_id=EID, url="https://x.example", events=[], secret="whsec_b")
    assert scenario.rejects(other) == "webhook_exists"


def test_update_records_only_what_changes_and_disabling_is_its_own_event():
    scenario = created()
    same = wh.UpdateWebhookEndpoint(endpoint_id=EID, url="https://example.com/h", description="d")
    assert scenario.when(same) == []
    changed = scenario.when(wh.UpdateWebhookEndpoint(endpoint_id=EID, events=["transcription.failed"], enabled=False))
    assert names(changed) == ["WebhookEndpointUpdated", "WebhookEndpointDisabled"]
    assert scenario.state.events == ["transcription.failed"] and not scenario.state.enabled
    assert scenario.rejects(wh.SendTestWebhook(endpoint_id=EID, test_id="t1")) == "webhook_disabled"
    assert names(scenario.when(wh.UpdateWebhookEndpoint(endpoint_id=EID, enabled=True))) == ["WebhookEndpointUpdated"]
    assert scenario.state.enabled and scenario.state.disabled_reason is None


def test_delivery_side_disabling_happens_once():
    scenario = created()
    assert names(scenario.when(DisableEndpoint(reason="the receiver answered 410 Gone"))) == ["WebhookEndpointDisabled"]
    assert scenario.when(DisableEndpoint(reason="again")) == []
    assert scenario.state.disabled_reason == "the receiver answered 410 Gone"


def test_a_deleted_endpoint_takes_no_more_commands_but_deleting_again_is_harmless():
    scenario = created()
    assert names(scenario.when(wh.DeleteWebhookEndpoint(endpoint_id=EID))) == ["WebhookEndpointDeleted"]
    assert scenario.when(wh.DeleteWebhookEndpoint(endpoint_id=EID)) == []
    assert scenario.when(DisableEndpoint(reason="late")) == []
    assert scenario.rejects(wh.UpdateWebhookEndpoint(endpoint_id=EID, enabled=True)) == "webhook_not_found"
    assert (
        Scenario(decide, evolve, Endpoint()).rejects(wh.DeleteWebhookEndpoint(endpoint_id=EID)) == "webhook_not_found"
    )


def test_a_rotated_secret_overlaps_until_its_time_then_only_the_new_one_signs():
    scenario = created()
    now = datetime(2030, 1, 1, tzinfo=UTC)
    until = (now + timedelta(hours=1)).isoformat()
    scenario.when(wh.RotateWebhookSecret(endpoint_id=EID, secret="whsec_b", previous_valid_until=until))
    assert scenario.state.secrets(now) == ["whsec_b", "whsec_a"]
    assert scenario.state.secrets(now + timedelta(hours=2)) == ["whsec_b"]
    assert scenario.when(wh.RotateWebhookSecret(endpoint_id=EID, secret="whsec_b", previous_valid_until=until)) == []


def test_tests_and_redeliveries_are_decided_once_each():
    scenario = created()
    assert names(scenario.when(wh.SendTestWebhook(endpoint_id=EID, test_id="t1"))) == ["WebhookTestRequested"]
    assert scenario.when(wh.SendTestWebhook(endpoint_id=EID, test_id="t1")) == []
    again = wh.RedeliverWebhook(
        endpoint_id=EID,
        delivery_id="d2",
        original_delivery_id="d1",
        webhook_id="msg_1",
        event_type="recording.uploaded",
        resource_id="r",
        payload={},
    )
    assert names(scenario.when(again)) == ["WebhookRedeliveryRequested"]
    assert scenario.when(again) == []
    assert fold(scenario.history) == scenario.state
