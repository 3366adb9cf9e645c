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


def test_the_whole_api_page_is_accessible_as_rendered_and_when_used(page: Page) -> None:
    """axe-core over the whole page, Swagger UI's markup included (api-docs.css and api-docs.js
    mend its contrast, names and headings): as rendered, with a call tried, with the schemas
    open and with the authorization dialog open."""
    page.goto("/api/docs")
    expect(page.locator("#swagger-ui")).to_have_attribute("data-ready", "true", timeout=30_000)
    assert_accessible(page)
    search = page.locator(".opblock-get", has_text="/api/search").first
    search.locator(".opblock-summary").click()
    page.locator(".opblock-get .try-out__btn").first.click()
    page.locator('.opblock-get tr[data-param-name="q"] input').first.fill("sea monsters")
    page.locator(".opblock-get .execute").first.click()
    status = page.locator(".opblock-get .live-responses-table .response .response-col_status")
    expect(status.first).to_have_text("200", timeout=30_000)
    assert_accessible(page)  # parameters (selects), the curl command, the response body
    page.locator(".models-control").first.click()
    expect(page.locator("section.models.is-open")).to_be_visible()
    page.locator(".models .json-schema-2020-12-expand-deep-button").first.click()
    assert_accessible(page)
    page.locator(".btn.authorize").first.click()
    expect(page.locator(".modal-ux")).to_be_visible()
    assert_accessible(page)
