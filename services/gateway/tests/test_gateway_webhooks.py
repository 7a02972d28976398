"""What a webhook endpoint may be, as the gateway checks it at create and update (no servers needed)."""

import pytest

from voxledger.gateway.domain.errors import Unacceptable
from voxledger.gateway.domain.webhooks import check_events, check_overlap, check_url, new_secret
from voxledger.gateway.handlers.webhooks import _checked_url
from voxledger.gateway.settings import GatewaySettings
from voxledger.runtime.settings import load_settings


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/h",
        "http://localhost/h",
        "http://[::1]/h",
        "http://169.254.169.254/latest",
        "http://10.0.0.7/h",
    ],
)
async def test_a_private_target_is_refused_by_default_and_allowed_by_the_setting(url):
    with pytest.raises(Unacceptable) as refused:
        await _checked_url(url, load_settings(GatewaySettings, {}))
    assert (refused.value.code, refused.value.field) == ("private_address", "url")
    allowed = load_settings(GatewaySettings, {"VOXLEDGER_WEBHOOK_ALLOW_PRIVATE": "true"})
    assert await _checked_url(url, allowed) == url


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "https://", "https://u:p@example.com/", "https://example.com/#x", "http://h:99999/"]
)
def test_malformed_urls_are_refused(url):
    with pytest.raises(Unacceptable) as refused:
        check_url(url)
    assert refused.value.code == "invalid_webhook_url"


def test_events_are_checked_and_kept_in_catalog_order_once_each():
    assert check_events(["transcription.failed", "recording.uploaded", "transcription.failed"]) == [
        "recording.uploaded",
        "transcription.failed",
    ]
    for bad in ([], ["recording.*"]):
        with pytest.raises(Unacceptable):
            check_events(bad)
    with pytest.raises(Unacceptable):
        check_overlap(-1)


def test_secrets_are_standard_webhooks_secrets_and_never_repeat():
    from standardwebhooks import Webhook

    secret = new_secret()
    assert secret.startswith("whsec_") and secret != new_secret()
    Webhook(secret)  # parses as a Standard Webhooks secret
