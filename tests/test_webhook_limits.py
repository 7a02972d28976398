"""Webhooks one tenant cannot multiply: endpoints per tenant are capped (a burst of creates too), and tests and
redeliveries share a per-minute budget. Defaults of the shared stack: 10 endpoints, 10 sends a minute."""

from concurrent.futures import ThreadPoolExecutor

from tests.helpers import wait_visible
from tests.webhook_receiver import receiving

MAX_ENDPOINTS = MAX_SENDS = 10


def test_a_burst_of_creates_stops_at_the_tenants_endpoint_cap(client):
    with receiving() as receiver:

        def create(_: int):
            return client.post("/v1/webhooks", json={"url": receiver.url, "events": ["transcription.completed"]})

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(create, range(MAX_ENDPOINTS + 5)))
        accepted = [a for a in answers if a.status_code == 202]
        refused = [a for a in answers if a.status_code != 202]
        assert len(accepted) == MAX_ENDPOINTS, [a.status_code for a in answers]
        for answer in refused:
            assert answer.status_code == 429 and answer.json()["code"] == "quota_exceeded", answer.text
            assert answer.json()["field"] == "webhook_endpoints" and "Retry-After" in answer.headers

        # A deleted endpoint frees its place.
        gone = accepted[0].json()["endpoint_id"]
        deleted = client.delete(f"/v1/webhooks/{gone}")
        assert deleted.status_code == 202
        wait_visible(client, f"/v1/webhooks?min_seq={deleted.headers['X-Consistency-Token']}")
        assert create(0).status_code == 202


def test_tests_and_redeliveries_share_a_per_minute_budget(client):
    with receiving() as receiver:
        created = client.post("/v1/webhooks", json={"url": receiver.url, "events": ["transcription.completed"]})
        endpoint = created.json()["endpoint_id"]
        wait_visible(client, f"/v1/webhooks/{endpoint}")
        sent = [client.post(f"/v1/webhooks/{endpoint}/test") for _ in range(MAX_SENDS)]
        assert [s.status_code for s in sent] == [202] * MAX_SENDS
        receiver.wait_for(lambda rs: len(rs) >= MAX_SENDS, "every test event")

        refused = client.post(f"/v1/webhooks/{endpoint}/test")
        assert refused.status_code == 429 and refused.json()["code"] == "quota_exceeded", refused.text
        assert refused.json()["field"] == "webhook_sends_per_minute"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        delivery = client.get(f"/v1/webhooks/{endpoint}/deliveries").json()["items"][0]
        redelivered = client.post(f"/v1/webhooks/{endpoint}/deliveries/{delivery['delivery_id']}/redeliver")
        assert redelivered.status_code == 429, redelivered.text
        assert len(receiver.requests) == MAX_SENDS
