"""The gateway killed during a job: the page shows reconnecting, then goes on with no duplicate or missing segment.

This needs a stack of its own: the shared one's gateway serves every other test."""

from playwright.sync_api import expect

from tests.browser.conftest import launched_browser, open_app
from tests.helpers import new_client, upload, wait_job


def test_a_killed_gateway_is_reconnected_and_the_transcript_goes_on_without_duplicates(own_stack, shoot):
    stack = own_stack()  # before the browser: starting a stack needs asyncio.run, which Playwright's loop forbids
    with new_client(stack, "gateway-restart") as client, launched_browser() as browser:
        accepted = upload(client, "bench_300s.ogg").json()
        page = open_app(browser, stack.http_url, client.headers["Authorization"].removeprefix("Bearer "))
        page.goto(f"{stack.http_url}/#/recordings/{accepted['recording_id']}")
        segments = page.locator("li.segment")
        expect(segments.first).to_be_visible(timeout=180_000)  # the job is running and its segments arrive
        before = segments.count()

        stack.service("gateway").proc.kill()  # SIGKILL: no goodbye to the stream
        expect(page.locator("#conn")).to_have_text("reconnecting")
        shoot(page, "reconnecting")
        stack.restart("gateway")
        expect(page.locator("#conn")).to_have_text("live", timeout=60_000)

        expect(page.locator(".rec-head [data-status]")).to_have_attribute("data-status", "completed", timeout=300_000)
        job = wait_job(client, accepted["job_id"])
        expect(segments).to_have_count(job["segment_count"])
        indexes = [int(i) for i in segments.evaluate_all("(els) => els.map((e) => e.dataset.index)")]
        assert indexes == list(range(job["segment_count"])), "every segment once, in order"
        assert job["segment_count"] > before, "segments went on arriving after the reconnect"
        page.context.close()
