"""Real Chromium (Debian's package, installed by .ci/run) driven by Playwright for Python against a real stack.

Playwright's own browser download is never used: the browser is launched from the installed executable. One
browser serves a module; each test gets a fresh context (its own session storage) signed in to its own tenant.
"""

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.helpers import AUDIO, new_client

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
# Chromium's fake microphone speaks this file (it loops it); live journeys transcribe it.
FAKE_MICROPHONE = AUDIO / "short_meeting.wav"
# Debian's /usr/bin/chromium is a shell wrapper; the binary behind it takes Playwright's pipe directly.
CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome")
expect.set_options(timeout=30_000)
T = TypeVar("T")


def chromium_path() -> str:
    """The installed Chromium; a missing one fails the test with what to do (never a skip)."""
    named = os.environ.get("VOXLEDGER_CHROMIUM")
    found = named or next(
        (p for c in CANDIDATES if (p := shutil.which(c) or (c if os.access(c, os.X_OK) else None))), None
    )
    if not found:
        pytest.fail(
            "Chromium is not installed: run `apt-get install -y chromium` (.ci/run does it), "
            "or point VOXLEDGER_CHROMIUM at a Chromium executable",
            pytrace=False,
        )
    return found


@contextlib.contextmanager
def launched_browser() -> Iterator[Browser]:
    """Chromium with a fake microphone. Playwright's sync API runs an event loop on this thread from here on:
    start whatever needs asyncio.run (a stack, an API key) first, or through `off_loop`."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=[
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={FAKE_MICROPHONE}",
                "--autoplay-policy=no-user-gesture-required",  # a search result opens its recording playing
            ],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_browser() as launched:
        yield launched


def off_loop(fn: Callable[[], T]) -> T:
    """`fn()` on a thread of its own, where asyncio.run works while Playwright's loop holds this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


@pytest.fixture
def client(stack, request) -> Iterator[httpx.Client]:
    """As the suite's `client` (a tenant of the test's own), with its key issued off Playwright's loop."""
    tenant = request.node.name[:40].strip("-_")
    opened = new_client(stack, tenant)
    yield off_loop(opened.__enter__)
    opened.__exit__(None, None, None)


def open_app(browser: Browser, http_url: str, key: str) -> Page:
    """The app in a fresh context, signed in by the link `voxledger up` prints (the key in the fragment)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{http_url}/#key={key}")
    expect(page.locator("#conn")).to_have_text("live")
    return page


@pytest.fixture
def app(browser: Browser, stack, client) -> Iterator[Page]:
    """The app signed in as this test's own tenant (the `client` fixture's key)."""
    page = open_app(browser, stack.http_url, client.headers["Authorization"].removeprefix("Bearer "))
    yield page
    page.context.close()


@pytest.fixture
def shoot() -> Callable[[Page, str], Path]:
    """Saves a screenshot of the page into artifacts/screenshots (git-ignored; CI keeps it as an artifact)."""

    def save(page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


# Every element a page renders with a status, as it was rendered: rows and cards are replaced, never mutated,
# so the records of a MutationObserver hold each state shown, however briefly.
WATCH_STATES = """() => {
  window.__states = [];
  const note = (el) => el.matches?.('[data-status]') && window.__states.push(
    el.dataset.status + '|' + (el.querySelector('.detail')?.textContent || ''));
  new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach((n) => {
    if (n.nodeType !== 1) return;
    note(n);
    n.querySelectorAll('[data-status]').forEach(note);
  }))).observe(document.body, { childList: true, subtree: true });
}"""


def states_shown(page: Page) -> list[str]:
    return page.evaluate("() => window.__states")
