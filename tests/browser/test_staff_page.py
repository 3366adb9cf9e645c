"""The staff console in a real Chromium: token sign-in, index status, and a reindex whose progress
bar reaches 100% (the in-process pipeline, polled through /api/admin/jobs)."""

from __future__ import annotations

import re
import threading
import time

import pytest
from playwright.sync_api import Page, expect

from celery_tasks.jobs import open_job_store
from tests.browser.conftest import STAFF_TOKEN, LiveApp, save_screenshot
from tests.support.http_server import Reply, ScriptedServer, Seen
from webapi.services import services_of

pytestmark = pytest.mark.browser


def sign_in(page: Page, token: str) -> None:
    page.fill("#staff-token", token)
    page.click("#signin-form button[type=submit]")


def test_wrong_token_is_refused_with_the_api_message(page: Page) -> None:
    page.goto("/staff")
    sign_in(page, "not-a-staff-token")
    expect(page.locator("#signin-error")).to_contain_text("not a staff token")
    expect(page.locator("#console")).to_be_hidden()


def test_staff_reindex_progress_reaches_100_percent(page: Page) -> None:
    page.goto("/staff")
    sign_in(page, STAFF_TOKEN)
    expect(page.locator('#index-status td[data-field="documents"]')).to_have_text("60")
    expect(page.locator('#index-status td[data-field="with_vectors"]')).to_have_text("60")
    page.reload()  # the token survives a reload (session storage)
    expect(page.locator("#console")).to_be_visible()
    page.click("#start-reindex")
    job = page.locator(".job").first
    expect(job.locator(".job-kind")).to_have_text("reindex")
    expect(job.locator(".job-state")).to_have_text("succeeded", timeout=60_000)
    expect(job.locator(".job-percent")).to_have_text("100%")
    assert job.locator("progress").evaluate("bar => bar.value / bar.max") == 1
    expect(job.locator(".job-counts")).to_have_text("60 / 60")
    expect(job.locator(".job-cancel")).to_be_hidden()
    save_screenshot(page, "staff-page")
    page.click("#signout")
    expect(page.locator("#signin-panel")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('mapsearch.staffToken')") is None


def test_staff_starts_a_harvest_and_cancels_it(page: Page) -> None:
    answered = threading.Event()

    def slow_manifest(seen: Seen) -> Reply:
        time.sleep(6)  # a slow upstream keeps the harvest running long enough to cancel it
        answered.set()
        return Reply(404, b"gone", content_type="text/plain")

    with ScriptedServer() as upstream:
        upstream.handle("/iiif/collection.json", slow_manifest)
        page.goto("/staff")
        sign_in(page, STAFF_TOKEN)
        page.select_option("#harvest-source", "iiif")
        page.fill('#harvest-form input[name="url"]', upstream.url("/iiif/collection.json"))
        page.uncheck('#harvest-form input[name="with_images"]')
        page.click("#harvest-form button[type=submit]")
        job = page.locator('.job:has(.job-kind:text-is("harvest"))').first
        expect(job.locator(".job-state")).to_have_text(re.compile("queued|running"))
        expect(job.locator(".job-eta")).to_have_text(re.compile("ETA"))
        # nothing listed yet: no share that could shrink later, no made-up total
        expect(job.locator(".job-counts")).to_have_text("0 / counting…")
        expect(job.locator(".job-percent")).to_have_text("counting…")
        job.locator(".job-cancel").click()
        expect(job.locator(".job-state")).to_have_text("cancelled")
        expect(job.locator(".job-cancel")).to_be_hidden()
        answered.wait(timeout=15)  # let the harvest thread see its answer while the upstream is up
        time.sleep(0.5)


def test_sign_in_moves_focus_and_the_checkbox_sits_beside_its_label(page: Page) -> None:
    page.goto("/staff")
    page.fill("#staff-token", STAFF_TOKEN)
    page.keyboard.press("Enter")
    expect(page.locator("#signed-in")).to_be_focused()
    box = page.locator('#harvest-form input[name="with_images"]').bounding_box()
    label = page.locator("#harvest-form label.checkbox").bounding_box()
    assert box is not None and label is not None
    assert label["height"] < 2 * box["height"] + 8  # one line: the box left of its words
    assert box["x"] <= label["x"] + 8  # the box first, then the words


def test_the_reindex_button_is_locked_while_a_reindex_runs(page: Page, live_app: LiveApp) -> None:
    store = open_job_store(services_of(live_app.app).settings)
    running = store.create("reindex", {"source": "index", "full": True})
    try:
        store.update(running.id, state="running", expected_total=60, total=20, done=10)
        page.goto("/staff")
        sign_in(page, STAFF_TOKEN)
        button = page.locator("#start-reindex")
        expect(button).to_be_disabled()
        expect(button).to_have_text("Reindex running…")
        expect(page.locator("#reindex-lock")).to_be_visible()
        job = page.locator(f'.job[data-job-id="{running.id}"]')
        # counted first: the share is of the 60 it will see, not of the 20 listed so far
        expect(job.locator(".job-counts")).to_have_text("10 / 60")
        expect(job.locator(".job-percent")).to_have_text("16%")
    finally:
        store.update(running.id, state="cancelled")
    expect(page.locator("#start-reindex")).to_be_enabled(timeout=15_000)
    expect(page.locator("#start-reindex")).to_have_text("Start reindex")
