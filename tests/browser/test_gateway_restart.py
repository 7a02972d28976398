"""The gateway killed mid-work: the page shows reconnecting, then goes on with nothing shown twice or missed.

These need a stack of their own (one for the module): the shared one's gateway serves every other test."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import launched_browser, open_app
from tests.helpers import new_client, started_stack, upload, wait_job
from voxledger.stack.supervisor import Stack


@pytest.fixture(scope="module")
def restart_stack(tmp_path_factory) -> Iterator[Stack]:
    with started_stack(tmp_path_factory.mktemp("restart")) as stack:
        yield stack


def indexes(items: Locator) -> list[int]:
    return [int(i) for i in items.evaluate_all("(els) => els.map((e) => e.dataset.index)")]


def restart_gateway(stack: Stack, page: Page, reconnecting: str) -> None:
    """SIGKILL (no goodbye to any socket), the page's `reconnecting` state seen, then a fresh gateway."""
    stack.service("gateway").proc.kill()
    expect(page.locator(reconnecting)).to_be_visible()
    stack.restart("gateway")


def test_a_killed_gateway_is_reconnected_and_the_transcript_goes_on_without_duplicates(restart_stack, shoot):
    stack = restart_stack  # started before the browser: a stack needs asyncio.run, which Playwright's loop forbids
    with new_client(stack, "gateway-restart") as client, launched_browser() as browser:
        accepted = upload(client, "bench_300s.ogg").json()
        page = open_app(browser, stack.http_url, client.headers["Authorization"].removeprefix("Bearer "))
        page.goto(f"{stack.http_url}/#/recordings/{accepted['recording_id']}")
        segments = page.locator("li.segment")
        expect(segments.first).to_be_visible(timeout=180_000)  # the job is running and its segments arrive
        before = segments.count()

        restart_gateway(stack, page, "#conn[data-state=reconnecting]")
        shoot(page, "reconnecting")
        expect(page.locator("#conn")).to_have_text("live", timeout=60_000)

        expect(page.locator(".rec-head [data-status]")).to_have_attribute("data-status", "completed", timeout=300_000)
        job = wait_job(client, accepted["job_id"])
        expect(segments).to_have_count(job["segment_count"])
        assert indexes(segments) == list(range(job["segment_count"])), "every segment once, in order"
        assert job["segment_count"] > before, "segments went on arriving after the reconnect"
        page.context.close()


def test_a_live_session_resumes_on_a_new_socket_after_the_gateway_is_killed(restart_stack):
    stack = restart_stack
    with new_client(stack, "live-restart") as client, launched_browser() as browser:
        page = open_app(browser, stack.http_url, client.headers["Authorization"].removeprefix("Bearer "))
        page.goto(f"{stack.http_url}/#/live")
        page.click("#live-start")
        finals = page.locator(".finals li")
        expect(finals.first).to_be_visible(timeout=120_000)
        before = finals.count()

        restart_gateway(stack, page, ".live-state:has-text('Reconnecting')")
        expect(page.locator(".live-state")).to_have_text("Listening…", timeout=60_000)  # resumed: audio flows again
        expect(finals.nth(before + 2)).to_be_visible(timeout=120_000)
        page.click("#live-stop")
        link = page.locator("#live-recording")
        expect(link).to_be_visible(timeout=60_000)
        shown = indexes(finals)
        assert shown == list(range(len(shown))) and len(shown) > before + 2, "each final shown once, none missing"
        link.click()
        segments = page.locator("li.segment")
        expect(segments.first).to_be_visible()
        assert indexes(segments) == shown, "the recording holds exactly the finals shown"
        page.context.close()
