"""Words read from the map in a real Chromium: a result card says which words on the map matched,
and the item page outlines them in the OpenSeadragon viewer, with a toggle for every word."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from indexer.records import MapWord
from tests.browser.conftest import LiveApp, save_screenshot
from webapi.services import services_of

pytestmark = pytest.mark.browser

ITEM = "demo:00007"


@pytest.fixture(scope="module")
def item_with_words(live_app: LiveApp) -> str:
    """One demo map given three words read from it (boxes inside its image)."""
    backend = services_of(live_app.app).backend
    doc = backend.fetch([ITEM])[ITEM]
    record = doc.record
    record.map_text = [
        MapWord(text="Villehamstad", box=(40, 60, 150, 28), score=0.97),
        MapWord(text="Elmouth", box=(220, 180, 90, 24), score=0.91),
        MapWord(text="Norber", box=(100, 260, 80, 22), score=0.88),
    ]
    record.map_text_engine = "browser-test"
    record.revision += 1
    assert backend.write([doc]).written == 1
    backend.refresh()
    return ITEM


def test_cards_and_the_viewer_show_the_matched_words(page: Page, item_with_words: str) -> None:
    page.goto("/?q=Villehamstad+Elmouth&mode=keyword")
    card = page.locator(f'li.card[data-id="{item_with_words}"]')
    expect(card.locator(".card-map-text")).to_have_text("on the map: Villehamstad, Elmouth")
    card.locator(".card-title a").click()
    page.wait_for_url(f"**/items/{item_with_words}?q=*")
    viewer = page.locator("#viewer")
    expect(viewer).to_have_attribute("data-ready", "true", timeout=30_000)
    matched = page.locator("#viewer .map-word.matched")
    expect(matched).to_have_count(2)
    assert sorted(matched.evaluate_all("els => els.map(e => e.dataset.text)")) == [
        "Elmouth",
        "Villehamstad",
    ]
    # the outline sits where the word is: its box over the image, in screen pixels
    image_box = page.evaluate(
        """() => {
            const v = window.mapsearchViewer;
            const r = v.viewport.viewportToViewerElementRectangle(
                v.viewport.imageToViewportRectangle(40, 60, 150, 28));
            return [r.x, r.y, r.width, r.height];
        }"""
    )
    outline = page.locator('#viewer .map-word[data-text="Villehamstad"]').bounding_box()
    viewer_box = viewer.bounding_box()
    assert outline is not None and viewer_box is not None
    assert abs(outline["x"] - viewer_box["x"] - image_box[0]) < 3
    assert abs(outline["width"] - image_box[2]) < 3
    expect(page.locator(".map-words-matched")).to_contain_text("Villehamstad")
    save_screenshot(page, "item-map-words")
    page.locator("#show-all-words").check()
    expect(viewer).to_have_attribute("data-words-shown", "3")
    expect(page.locator("#viewer .map-word")).to_have_count(3)
    page.locator("#show-all-words").uncheck()
    expect(page.locator("#viewer .map-word")).to_have_count(2)
