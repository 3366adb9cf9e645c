"""The API page in a real Chromium: the header's "API" link leads to the OpenAPI document rendered
by the bundled Swagger UI (no network beyond this app, no Content Security Policy violation), and
a call can be tried from it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveApp
from tests.support.axe import assert_accessible

pytestmark = pytest.mark.browser


def test_the_api_link_opens_the_rendered_openapi_document(page: Page, live_app: LiveApp) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/")
    with page.expect_navigation():
        page.get_by_role("link", name="API", exact=True).click()
    assert page.url.endswith("/api/docs")
    expect(page.locator("main > h1")).to_have_text("JSON API")
    expect(page.locator("#swagger-ui")).to_have_attribute("data-ready", "true", timeout=30_000)
    search = page.locator(".opblock-get", has_text="/api/search").first
    expect(search).to_be_visible()
    assert all(url.startswith(live_app.url) for url in requested), requested  # offline-ready
    spec = page.request.get(page.locator("#openapi-link").get_attribute("href") or "").json()
    assert "/api/search" in spec["paths"]
    # try a call from the page
    search.locator(".opblock-summary").click()
    page.locator(".opblock-get .try-out__btn").first.click()
    page.locator('.opblock-get tr[data-param-name="q"] input').first.fill("sea monsters")
    page.locator(".opblock-get .execute").first.click()
    status = page.locator(".opblock-get .live-responses-table .response .response-col_status")
    expect(status.first).to_have_text("200", timeout=30_000)


def test_the_api_page_header_and_intro_are_accessible(page: Page) -> None:
    page.goto("/api/docs")
    expect(page.locator("#swagger-ui")).to_have_attribute("data-ready", "true", timeout=30_000)
    # our header and introduction; Swagger UI's own markup is not axe-clean (see the report)
    assert_accessible(page, "header, main > h1, main > p")
