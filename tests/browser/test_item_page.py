"""The item page in a real Chromium: metadata, a zoomable OpenSeadragon viewer, citation, IIIF
manifest and "more like this"."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveApp, save_screenshot
from tests.browser.support import result_ids

pytestmark = pytest.mark.browser

ITEM = "demo:00003"


def test_item_page_zooms_and_cites(page: Page, live_app: LiveApp) -> None:
    response = page.goto(f"/items/{ITEM}")
    assert response is not None and response.ok
    record = live_app.app.test_client().get(f"/api/items/{ITEM}").get_json()
    expect(page.locator("h1")).to_have_text(record["title"])
    expect(page.locator(".metadata")).to_contain_text(record["date"])
    viewer = page.locator("#viewer")
    expect(viewer).to_have_attribute("data-ready", "true")
    save_screenshot(page, "item-page")
    start = page.evaluate("window.mapsearchViewer.viewport.getZoom()")
    box = viewer.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(4):  # each wheel step zooms in by OpenSeadragon's zoomPerScroll (1.2)
        page.mouse.wheel(0, -120)
        page.wait_for_timeout(100)
    page.wait_for_function(f"window.mapsearchViewer.viewport.getZoom() > {start} * 1.5")
    # the keyboard zooms too: focus the viewer canvas, press "-" until back out
    page.locator("#viewer .openseadragon-canvas[tabindex=\"0\"]").first.focus()
    zoomed = page.evaluate("window.mapsearchViewer.viewport.getZoom()")
    page.keyboard.press("-")
    page.wait_for_function(f"window.mapsearchViewer.viewport.getZoom() < {zoomed}")
    expect(page.locator("#citation-text")).to_contain_text(record["title"])
    manifest = page.request.get(page.locator(".manifest-link").get_attribute("href") or "").json()
    assert manifest["type"] == "Manifest" and manifest["label"]["none"] == [record["title"]]


def test_more_like_this_leads_to_other_maps(page: Page, live_app: LiveApp) -> None:
    page.goto(f"/items/{ITEM}")
    similar = result_ids(page, "#similar .card")
    assert similar and ITEM not in similar
    api = live_app.app.test_client().get(f"/api/items/{ITEM}/similar?size=12").get_json()
    assert similar == [hit["id"] for hit in api["hits"]]
    with page.expect_navigation():
        page.locator("#similar .card .card-title a").first.click()
    assert page.url.endswith(f"/items/{similar[0]}")
    with page.expect_navigation():
        page.locator(".item-actions .search-with").click()
    assert result_ids(page)[0] == similar[0]


def test_unknown_item_is_a_404_page(page: Page) -> None:
    response = page.goto("/items/demo:nope")
    assert response is not None and response.status == 404
    expect(page.locator(".problem-detail")).to_contain_text("demo:nope")
