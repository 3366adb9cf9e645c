"""Regions in a real Chromium (docs/regions.md): a result card outlines its best region, the item
page opens the viewer zoomed to it with an outline and steps through the regions, and dragging a
rectangle on the viewer searches with that box of the map."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from indexer.pipeline import index_records
from indexer.synthetic import write_demo_collection
from tests.browser.conftest import LiveApp, save_screenshot, served
from tests.support.browser import result_ids
from webapi.app import create_app
from webapi.services import services_of

pytestmark = pytest.mark.browser

LARGE_SEED = 25  # its first sheet is a small large one (2,101 px): quick to draw
LARGE_MAPS = 3


@pytest.fixture(scope="module")
def region_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The real app over large-format sheets indexed with regions (grid 2,4@0.25)."""
    data_dir = tmp_path_factory.mktemp("regions") / "data"
    app = create_app({"data_dir": data_dir, "region_grid": "2,4@0.25", "TESTING": True})
    services = services_of(app)
    records = write_demo_collection(data_dir, LARGE_MAPS, LARGE_SEED, large=True)
    report = index_records(
        records, settings=services.settings, backend=services.backend, embedder=services.embedder
    )
    assert report.maps_with_new_regions == LARGE_MAPS, report
    try:
        with served(app, "browser-regions-server") as url:
            yield LiveApp(url, app, data_dir)
    finally:
        services.close()


@pytest.fixture
def region_page(browser: Browser, region_app: LiveApp) -> Iterator[Page]:
    """A desktop-sized page on the region app; JavaScript errors and CSP violations fail."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=region_app.url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_a_card_outlines_its_region_and_the_viewer_opens_on_it(
    region_page: Page, region_app: LiveApp
) -> None:
    page = region_page
    page.goto("/?q=sea+monster&mode=semantic&min_similarity=-1")
    outlined = page.locator("#results .card .card-region")
    expect(outlined.first).to_be_attached()
    card = page.locator("#results .card").filter(has=page.locator(".card-region")).first
    doc_id = card.get_attribute("data-id")
    api = (
        region_app.app.test_client()
        .get("/api/search?q=sea+monster&mode=semantic&min_similarity=-1")
        .get_json()
    )
    hit = next(h for h in api["hits"] if h["id"] == doc_id)
    assert hit["regions"], hit
    rect = card.locator(".card-region rect").last
    width, height = hit["image_width"], hit["image_height"]
    x, y, _, _ = hit["regions"][0]["box"]
    longer = max(width, height)
    expected_left = (100 - 100 * width / longer) / 2 + 100 * x / longer
    assert abs(float(rect.get_attribute("x") or 0) - expected_left) < 0.1
    expected_top = (100 - 100 * height / longer) / 2 + 100 * y / longer
    assert abs(float(rect.get_attribute("y") or 0) - expected_top) < 0.1
    save_screenshot(page, "region-card")

    with page.expect_navigation():
        card.locator(".card-title a").click()
    assert "region=" in page.url
    viewer = page.locator("#viewer")
    expect(viewer).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(page.locator("#viewer .viewer-region")).to_have_count(len(hit["regions"]))
    expect(viewer).to_have_attribute("data-region", "1")
    page.wait_for_timeout(1500)  # the viewer animates to the region
    zoom = page.evaluate("window.mapsearchViewer.viewport.getZoom()")
    home = page.evaluate("window.mapsearchViewer.viewport.getHomeZoom()")
    assert zoom > home * 1.2  # zoomed in on the region, not the whole sheet
    # the region's outline is inside the visible part of the viewer
    outline = page.locator("#viewer .viewer-region").first.bounding_box()
    frame = viewer.bounding_box()
    assert outline is not None and frame is not None
    assert (
        frame["x"] <= outline["x"]
        and outline["x"] + outline["width"] <= frame["x"] + frame["width"]
    )
    save_screenshot(page, "region-item")
    if len(hit["regions"]) > 1:
        page.locator("#region-next").click()
        expect(page.locator("#region-status")).to_have_text(
            re.compile(rf"Matching region 2 of {len(hit['regions'])}")
        )
        expect(viewer).to_have_attribute("data-region", "2")


def test_dragging_a_rectangle_searches_with_that_box(
    region_page: Page, region_app: LiveApp
) -> None:
    page = region_page
    page.goto("/items/demo:00001")
    viewer = page.locator("#viewer")
    expect(viewer).to_have_attribute("data-ready", "true", timeout=30_000)
    page.locator("#region-select").click()
    expect(page.locator("#region-select")).to_have_attribute("aria-pressed", "true")
    frame = viewer.bounding_box()
    assert frame is not None
    x0, y0 = frame["x"] + frame["width"] * 0.3, frame["y"] + frame["height"] * 0.3
    x1, y1 = frame["x"] + frame["width"] * 0.6, frame["y"] + frame["height"] * 0.55
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
    page.mouse.move(x1, y1, steps=4)
    expect(page.locator("#viewer .viewer-selection")).to_be_visible()
    page.mouse.up()
    box_text = page.locator("#region-box").input_value()
    x, y, w, h = (int(v) for v in box_text.split(","))
    item = region_app.app.test_client().get("/api/items/demo:00001").get_json()
    width, height = item["image"]["width"], item["image"]["height"]
    assert x >= 0 and y >= 0 and x + w <= width and y + h <= height
    assert w > 8 and h > 8 and w < width and h < height
    # the box in image pixels matches the dragged share of the viewer (home view: whole sheet)
    assert abs(w / width - 0.3 * frame["width"] / min(frame["width"], frame["width"])) < 0.5
    with page.expect_navigation():
        page.locator("#region-search-button").click()
    query = parse_qs(urlsplit(page.url).query)
    assert query["image_id"] == ["demo:00001"] and query["image_region"] == [box_text]
    shown = result_ids(page)
    api = (
        region_app.app.test_client()
        .get(f"/api/search?image_id=demo:00001&image_region={box_text}")
        .get_json()
    )
    assert shown and shown == [hit["id"] for hit in api["hits"]][: len(shown)]
    save_screenshot(page, "region-search")
