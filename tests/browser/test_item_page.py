"""The item page in a real Chromium: metadata, a zoomable OpenSeadragon viewer, citation, IIIF
manifest and "more like this"."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from indexer.records import ImageRef, IndexDocument, MapRecord
from tests.browser.conftest import LiveApp, save_screenshot
from tests.support.browser import result_ids
from tests.support.http_server import Reply, ScriptedServer
from webapi.services import services_of

pytestmark = pytest.mark.browser

ITEM = "demo:00003"


def test_item_page_zooms_and_cites(page: Page, live_app: LiveApp) -> None:
    response = page.goto(f"/items/{ITEM}")
    assert response is not None and response.ok
    record = live_app.app.test_client().get(f"/api/items/{ITEM}").get_json()
    expect(page.locator("h1")).to_have_text(record["title"])
    expect(page.locator(".metadata")).to_contain_text(record["date"])
    viewer = page.locator("#viewer")
    # the viewer fetches and decodes the image first: on a busy machine that passes 5 s
    expect(viewer).to_have_attribute("data-ready", "true", timeout=30_000)
    save_screenshot(page, "item-page")
    start = page.evaluate("window.mapsearchViewer.viewport.getZoom()")
    box = viewer.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(4):  # each wheel step zooms in by OpenSeadragon's zoomPerScroll (1.2)
        page.mouse.wheel(0, -120)
        page.wait_for_timeout(100)
    # predicates as functions: an expression string is eval'ed in the page, which its CSP forbids
    page.wait_for_function(
        "start => window.mapsearchViewer.viewport.getZoom() > start * 1.5", arg=start
    )
    # the keyboard zooms too: focus the viewer canvas, press "-" until back out
    page.locator('#viewer .openseadragon-canvas[tabindex="0"]').first.focus()
    zoomed = page.evaluate("window.mapsearchViewer.viewport.getZoom()")
    page.keyboard.press("-")
    page.wait_for_function("z => window.mapsearchViewer.viewport.getZoom() < z", arg=zoomed)
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


def test_iiif_record_gets_size_requests_and_deep_zoom_from_its_image_service(
    page: Page, live_app: LiveApp
) -> None:
    buffer = io.BytesIO()
    Image.open(live_app.data_dir / "images" / "demo-00009.png").convert("RGB").resize(
        (400, 300)
    ).save(buffer, "JPEG")
    cors = {"Access-Control-Allow-Origin": "*"}
    with ScriptedServer() as iiif:
        service = iiif.url("/iiif/map-1")
        info = {
            "@context": "http://iiif.io/api/image/3/context.json",
            "id": service,
            "type": "ImageService3",
            "protocol": "http://iiif.io/api/image",
            "profile": "level0",
            "width": 400,
            "height": 300,
            "sizes": [{"width": 400, "height": 300}],
        }
        iiif.add("/iiif/map-1/info.json", Reply.json(info, **cors))
        iiif.handle(
            "/iiif/map-1/full/400,300/0/default.jpg",
            lambda seen: Reply(200, buffer.getvalue(), cors, "image/jpeg"),
        )
        record = MapRecord(
            id="iiif:map-1",
            source="iiif",
            title="A IIIF test sheet",
            image=ImageRef(iiif_service=service, width=400, height=300),
        )
        backend = services_of(live_app.app).backend
        backend.write([IndexDocument(record=record)])
        try:
            page.goto("/?q=IIIF+test+sheet&mode=keyword")
            image = page.locator('.card[data-id="iiif:map-1"] img')
            expect(image).to_have_attribute("src", f"{service}/full/!200,200/0/default.jpg")
            assert f"{service}/full/!800,800/0/default.jpg 800w" in (
                image.get_attribute("srcset") or ""
            )
            page.goto("/items/iiif:map-1")
            expect(page.locator("#viewer")).to_have_attribute("data-ready", "true")
            expect(page.locator("#viewer")).to_have_attribute(
                "data-tile-source", re.compile("info.json")
            )
            page.wait_for_function(
                "() => window.mapsearchViewer.world.getItemAt(0).getFullyLoaded()"
            )
            assert iiif.requests_to("/iiif/map-1/info.json")
            assert iiif.requests_to("/iiif/map-1/full/400,300/0/default.jpg")
        finally:
            backend.delete(["iiif:map-1"])
