from voxledger.runtime.settings import CommonSettings
from voxledger.webhooks.domain.delivery import RetryPolicy


class WebhooksSettings(CommonSettings, kw_only=True, frozen=True):
    webhook_connect_timeout_s: float = 5.0
    webhook_response_timeout_s: float = 10.0
    webhook_retry_base_s: float = 5.0  # the first retry waits about this; each next one twice as long
    webhook_retry_max_s: float = 3600.0  # no wait between attempts is longer
    webhook_retry_for_s: float = 86400.0  # a delivery is retried for up to this long after its first attempt
    webhook_disable_after_s: float = 86400.0  # an endpoint whose delivery has failed this long is disabled
    webhook_blocked_recheck_s: float = 1.0  # a delivery waiting for an earlier one of its recording looks again
    webhook_concurrency: int = 16  # deliveries in flight per process

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            base_s=self.webhook_retry_base_s,
            max_s=self.webhook_retry_max_s,
            retry_for_s=self.webhook_retry_for_s,
            disable_after_s=self.webhook_disable_after_s,
        )
