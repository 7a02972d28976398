"""Standard Webhooks signatures: `webhook-id`, `webhook-timestamp` and one `v1,` signature per secret.

While a rotated-out secret still overlaps, both signatures go in the header (space-separated, as the
specification allows), so a receiver verifies with either the old or the new secret.
"""

from datetime import datetime

from standardwebhooks import Webhook


def signed_headers(webhook_id: str, at: datetime, body: str, secrets: list[str]) -> dict[str, str]:
    signatures = " ".join(Webhook(secret).sign(webhook_id, at, body) for secret in secrets)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }
