"""Journeys through the web app in real Chromium, on the shared stack; each test is its own tenant."""

import json
import re
import zipfile

from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, WATCH_STATES, states_shown
from tests.helpers import AUDIO, BROKEN_MODEL, eventually, reference, upload, wait_job
from tests.wer import BATCH_WER, STREAMING_WER, assert_wer, words
from voxledger.contracts.failures import public_message

# Streaming's bound, plus room for the first words of the fixture's next loop where the cut-off falls short.
LIVE_FIRST_PASS_WER = STREAMING_WER + 0.15
JOB_TIMEOUT_MS = 180_000  # a loaded CI machine transcribes slowly; each wait ends as soon as the state is shown


def open_recording(page: Page, recording_id: str) -> None:
    page.goto(f"{page.url.split('#')[0]}#/recordings/{recording_id}")
    page.wait_for_function("() => document.querySelector('#player')?.readyState >= 1")


def assert_player_streams_by_link(page: Page, requests: list[dict[str, str]], recording_id: str) -> None:
    """The player's src is an audio link, never the key; the browser reads it by byte ranges; a link that fails
    (as an expired one does) is replaced by a fresh one."""
    src = page.eval_on_selector("#player", "a => a.src")
    assert f"/v1/recordings/{recording_id}/audio?link=" in src, src
    assert page.evaluate("() => sessionStorage.getItem('voxledger.key')") not in src
    assert requests and all("range" in r and "authorization" not in r for r in requests), requests
    page.eval_on_selector("#player", "a => { a.src = a.src.replace(/link=[^&]+/, 'link=expired.AAAA'); }")
    page.wait_for_function(  # a new src resets readyState at once, so >= 1 means the fresh link loaded
        "() => { const a = document.querySelector('#player'); return a.src.includes('link=')"
        " && !a.src.includes('expired') && a.readyState >= 1; }"
    )
    expect(page.locator(".page.recording .notice.error")).to_have_count(0)


def test_upload_watch_the_stages_read_and_click_a_segment_to_seek(app: Page, client, shoot):
    assert "key=" not in app.url, "the key left the address bar"
    assert app.evaluate("() => sessionStorage.getItem('voxledger.key')")
    expect(app.locator("table.recordings")).to_have_attribute("aria-busy", "false")
    usable_ms = app.evaluate("() => performance.now()")  # from navigation start to a usable list
    app.evaluate(WATCH_STATES)

    # Only the languages the chosen model transcribes: English for the default tiny.en, any for a multilingual one.
    expect(app.locator("#upload-language option")).to_have_text(["English"])
    app.select_option("#upload-model", BROKEN_MODEL)
    expect(app.locator("#upload-language option", has_text="German")).to_have_count(1)
    app.select_option("#upload-model", "")
    expect(app.locator("#upload-language option")).to_have_text(["English"])
    app.check("#upload-words")  # word timestamps: the transcript highlights word by word
    app.select_option("#upload-priority", "high")
    app.set_input_files("#file-input", str(AUDIO / "bench_60s.ogg"))  # a minute: many segments to seek between
    row = app.locator("tr[data-recording-id]", has_text="bench_60s.ogg")
    expect(row).to_have_attribute("data-status", "completed", timeout=JOB_TIMEOUT_MS)
    shown = states_shown(app)
    assert shown.index(next(s for s in shown if s.startswith("running|"))) < shown.index(
        next(s for s in shown if s.startswith("completed|"))
    ), shown
    assert any(re.match(r"running\|(loading|transcribing|finalizing)", s) for s in shown), f"a named stage: {shown}"
    assert not [s for s in shown if s.startswith("running|queued")], f"a started job shown as queued: {shown}"
    shoot(app, "recordings")

    recording_id = row.get_attribute("data-recording-id")
    assert [j["priority"] for j in client.get(f"/v1/recordings/{recording_id}").json()["jobs"]] == ["high"]
    audio_requests: list[dict[str, str]] = []  # the player's, as the browser sent them
    app.on("request", lambda r: "/audio?" in r.url and audio_requests.append({"url": r.url, **r.headers}))
    row.locator("a").click()
    app.wait_for_function("() => document.querySelector('#player')?.readyState >= 1")
    assert_player_streams_by_link(app, audio_requests, recording_id)
    segments = app.locator("li.segment")
    expect(segments.first).to_be_visible()
    assert_wer(reference("bench_60s.ogg"), " ".join(app.locator("li.segment .text").all_inner_texts()), BATCH_WER)
    assert segments.count() > 3
    target = segments.nth(segments.count() // 2)
    start = float(target.get_attribute("data-start") or 0)
    target.click()
    app.wait_for_function(
        "([s]) => { const a = document.querySelector('#player'); return a.currentTime >= s && a.currentTime < s + 2; }",
        arg=[start],
    )
    expect(target).to_have_class(re.compile(r"\bcurrent\b"))
    word = target.locator(".word").nth(1)
    word_start = float(word.get_attribute("data-start") or 0)
    word.click()
    app.wait_for_function(
        "([s]) => { const a = document.querySelector('#player'); return a.currentTime >= s && a.currentTime < s + 2; }",
        arg=[word_start],
    )
    expect(target.locator(".word.current")).to_have_count(1)
    app.keyboard.press("Space")  # pauses
    app.wait_for_function("() => document.querySelector('#player').paused")

    with app.expect_download() as download:
        app.click("button[data-format=srt]")
    assert "-->" in download.value.path().read_text()
    summary = app.locator("article[data-kind=summary]")
    expect(summary).to_have_attribute("data-status", "ready", timeout=JOB_TIMEOUT_MS)
    # Each insight names the engine that made it; with the built-in ones, an admin is told how to connect a model.
    expect(summary.locator(".engine")).to_have_text("built-in, extractive")
    expect(app.locator(".engine-hint")).to_contain_text("VOXLEDGER_LLM_URL")
    expect(app.locator("article[data-kind=analytics] svg").first).to_be_visible(timeout=JOB_TIMEOUT_MS)
    shoot(app, "recording")

    item = app.locator("article[data-kind=action_items] button.time").first  # an action item's moment
    item_start = float(item.get_attribute("data-start") or 0)
    item.click()
    app.wait_for_function(
        "([s]) => { const a = document.querySelector('#player'); return a.currentTime >= s && a.currentTime < s + 2; }",
        arg=[item_start],
    )
    insights = f"/v1/recordings/{recording_id}/insights"

    def requested() -> str:
        return client.get(insights).json()["insights"]["summary"]["requested_at"]

    first = requested()
    summary.locator("button[data-action=rerun]").click()  # the summary made again, as a run of its own
    eventually(lambda: requested() != first, "the summary's re-run requested")
    expect(summary).to_have_attribute("data-status", "ready", timeout=JOB_TIMEOUT_MS)

    weight = app.evaluate(
        """() => performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))
             .filter((e) => !e.name.includes('/v1/')).reduce((n, e) => n + e.decodedBodySize, 0)"""
    )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "webapp-metrics.json").write_text(json.dumps({"usable_list_ms": usable_ms, "page_bytes": weight}))
    assert weight < 150_000, f"the app weighs {weight} bytes"


def test_retranscribe_twice_gives_two_more_jobs_all_completed(app: Page, client, shoot):
    accepted = upload(client, "short_meeting.ogg").json()
    wait_job(client, accepted["job_id"])
    open_recording(app, accepted["recording_id"])
    for priority in ("normal", "low"):
        app.click("button[data-action=retranscribe] >> nth=0")
        app.select_option("#again-priority", priority)
        app.click("dialog button[type=submit]")
        expect(app.locator("dialog")).to_have_count(0)
    jobs = app.locator("table.jobs tbody tr")
    expect(jobs).to_have_count(3)
    for i in range(3):
        expect(jobs.nth(i)).to_have_attribute("data-status", "completed", timeout=JOB_TIMEOUT_MS)
    priorities = [j["priority"] for j in client.get(f"/v1/recordings/{accepted['recording_id']}").json()["jobs"]]
    assert sorted(priorities) == ["low", "normal", "normal"], priorities
    jobs.nth(2).locator("button").click()  # the first job's transcript, again
    expect(jobs.nth(2)).to_have_class(re.compile("selected"))
    expect(app.locator("li.segment").first).to_be_visible()
    shoot(app, "jobs")
    app.set_viewport_size({"width": 390, "height": 844})  # a phone: one column, no sideways scrolling
    assert app.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    shoot(app, "recording-phone")


def test_an_undecodable_upload_shows_failed_with_its_reason_never_completed(app: Page):
    app.evaluate(WATCH_STATES)
    app.set_input_files("#file-input", str(AUDIO / "truncated.wav"))
    row = app.locator("tr[data-recording-id]", has_text="truncated.wav")
    expect(row).to_have_attribute("data-status", "failed", timeout=JOB_TIMEOUT_MS)
    expect(row).to_contain_text(public_message("audio_truncated"))
    assert not any(s.startswith("completed|") for s in states_shown(app))


def test_cancel_a_running_job_then_delete_it(app: Page, client):
    accepted = upload(client, "bench_300s.ogg").json()
    row = app.locator(f"tr[data-recording-id='{accepted['recording_id']}']")
    expect(row).to_have_attribute("data-status", "running", timeout=JOB_TIMEOUT_MS)
    row.locator(".row-menu summary").click()  # a row's actions are folded in its menu
    row.locator("button[data-action=cancel]").click()
    expect(row).to_have_attribute("data-status", "cancelled", timeout=JOB_TIMEOUT_MS)
    assert client.get(f"/v1/jobs/{accepted['job_id']}").json()["status"] == "cancelled"
    app.once("dialog", lambda dialog: dialog.accept())  # "Delete this recording...?"
    row.locator(".row-menu summary").click()  # the cancelled row was drawn anew, its menu closed
    row.locator("button[data-action=delete]").click()
    expect(row).to_have_count(0)
    path = f"/v1/recordings/{accepted['recording_id']}"
    eventually(lambda: client.get(path).status_code == 404, "the deleted recording gone from the read models")


def test_rename_and_tag_a_recording_export_it_under_its_name_and_filter_by_a_tag(app: Page, client, shoot):
    accepted = upload(client, "short_meeting.ogg").json()
    upload(client, "short_meeting.ogg", transcribe="false")  # another recording, without the tag
    wait_job(client, accepted["job_id"])
    open_recording(app, accepted["recording_id"])
    app.click("button[data-action=describe]")
    app.fill("#describe-name", "Réunion d'équipe")
    app.fill("#describe-tags", "sales, q3")
    app.fill("#describe-folder", "Customers")
    app.click("dialog button[type=submit]")
    expect(app.locator(".rec-head h1")).to_have_text("Réunion d'équipe")
    expect(app.locator(".rec-head .tag")).to_have_text(["sales", "q3"])
    shoot(app, "recording-named")
    with app.expect_download() as download:
        app.click("button[data-format=txt]")
    assert download.value.suggested_filename == "Réunion d'équipe.txt"

    app.locator(".rec-head .tag", has_text="q3").click()  # the list, filtered by that tag
    rows = app.locator("tr[data-recording-id]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Réunion d'équipe")
    app.fill("#tag-filter", "nothing-has-this")
    app.press("#tag-filter", "Enter")
    expect(app.locator(".empty")).to_have_text("No recordings match these filters.")


def test_on_a_phone_pick_several_recordings_tag_export_and_delete_them_at_once(app: Page, client, shoot):
    app.set_viewport_size({"width": 390, "height": 844})
    ids = [upload(client, "short_meeting.ogg").json() for _ in range(2)]
    for accepted in ids:
        wait_job(client, accepted["job_id"])
    app.reload()
    rows = [app.locator(f"tr[data-recording-id='{a['recording_id']}']") for a in ids]
    for row in rows:
        expect(row).to_have_attribute("data-status", "completed", timeout=JOB_TIMEOUT_MS)
    wide = app.evaluate(
        """() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 391)
             .map((e) => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)"""
    )
    assert app.evaluate("() => document.documentElement.scrollWidth") <= 390, f"wider than the phone: {wide}"
    for row in rows:
        row.locator("input.pick").check()
    expect(app.locator(".bulk .count")).to_have_text("2 selected")
    shoot(app, "recordings-phone")

    app.click("button[data-bulk=tag]")
    app.fill("#ask-one", "follow-up")
    app.click("dialog button[type=submit]")
    for row in rows:  # shown as the events arrive; both stay picked
        expect(row.locator(".tag")).to_have_text(["follow-up"])
    expect(app.locator(".bulk .count")).to_have_text("2 selected")
    app.select_option("#bulk-format", "srt")
    with app.expect_download() as download:
        app.click("button[data-bulk=export]")
    assert download.value.suggested_filename == "recordings.zip"
    with zipfile.ZipFile(download.value.path()) as archive:
        assert archive.namelist() == ["short_meeting.srt", "short_meeting (2).srt"]
    app.once("dialog", lambda dialog: dialog.accept())  # "Delete 2 recordings...?"
    app.click("button[data-bulk=delete]")
    for row in rows:
        expect(row).to_have_count(0)
    expect(app.locator(".bulk")).to_be_hidden()


def test_search_for_a_word_and_land_on_its_moment(app: Page, client, shoot):
    wait_job(client, upload(client, "bench_60s.ogg").json()["job_id"])
    spoken = words(reference("bench_60s.ogg"))
    word = max(spoken[len(spoken) // 2 :], key=len)  # well into the recording: searched for, not asserted as heard
    app.goto(f"{app.url.split('#')[0]}#/search")
    app.fill("#search-input", word)
    app.press("#search-input", "Enter")
    hit = app.locator("li.hit a").first
    expect(hit.locator("mark").first).to_be_visible()
    shoot(app, "search")
    start = float(hit.get_attribute("data-start") or 0)
    assert start > 10, "the hit is where the word was said, well after the start"
    hit.click()
    app.wait_for_function(
        "([s]) => { const a = document.querySelector('#player'); return a && !a.paused && a.currentTime >= s; }",
        arg=[start],
    )
    current = app.locator("li.segment.current")
    expect(current).to_be_visible()
    assert float(current.get_attribute("data-start") or -1) == start


def test_live_the_fake_microphone_speaks_and_the_session_becomes_a_recording(app: Page, client, shoot):
    app.goto(f"{app.url.split('#')[0]}#/live")
    app.evaluate(
        """() => { window.__interims = [];
            new MutationObserver(() => { const t = document.querySelector('.interim')?.textContent;
              if (t) window.__interims.push(t); }).observe(document.body, { childList: true, subtree: true,
              characterData: true }); }"""
    )
    app.click("#live-start")
    spoken = len(words(reference("short_meeting.wav")))
    app.wait_for_function(
        "([n]) => document.querySelector('.finals').innerText.split(/\\s+/).length >= n", arg=[spoken], timeout=120_000
    )
    expect(app.locator(".elapsed")).not_to_have_text("0:00")
    shoot(app, "live")
    app.click("#live-stop")
    link = app.locator("#live-recording")
    expect(link).to_be_visible(timeout=60_000)
    assert app.evaluate("() => window.__interims.length") > 0, "interim text was shown"
    finals = [f.split(" ", 1)[-1] for f in app.locator(".finals li").all_inner_texts()]  # without the time
    heard = words(" ".join(finals))
    # The fake microphone loops the fixture: its first reading is the first words heard.
    assert_wer(reference("short_meeting.wav"), " ".join(heard[:spoken]), LIVE_FIRST_PASS_WER)
    link.click()
    expect(app.locator("li.segment").first).to_be_visible()
    assert words(" ".join(app.locator("li.segment .text").all_inner_texts())) == heard, "the recording holds the finals"


def test_the_api_docs_render_without_internet(app: Page, shoot):
    app.goto(f"{app.url.split('#')[0]}docs")
    # Swagger UI, from this server, read the whole document: the last operations are rendered too.
    expect(app.locator(".opblock-summary-path[data-path='/v1/events']")).to_be_visible()
    expect(app.locator(".opblock-summary-path[data-path='/v1/recordings/{recording_id}/audio']")).to_be_visible()
    shoot(app, "docs")
