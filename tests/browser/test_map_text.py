"""Words read from the map in a real Chromium: a result card says which words on the map matched,
the item page outlines them in the OpenSeadragon viewer, with a toggle for every word, and the
sidebar's "Words found in" facet filters by where the words were found (with its chip)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from indexer.records import MapWord
from tests.browser.conftest import LiveApp, save_screenshot
from tests.support.axe import assert_accessible
from tests.support.browser import api_search, query_of, result_count, updated_in_place
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


def test_the_found_in_facet_filters_by_where_the_words_were_found(
    page: Page, live_app: LiveApp, item_with_words: str
) -> None:
    page.goto("/?q=Elmouth+Norber")
    facet = page.locator('.facet[data-facet="found_in"]')
    expect(facet.locator("legend")).to_have_text("Words found in")
    on_map = facet.locator('label:has(input[value="map"])')
    expect(on_map.locator(".facet-value")).to_have_text("On the map")
    counted = api_search(live_app, {"q": "Elmouth Norber", "facet": "found_in"})["facets"]
    by_value = {bucket["value"]: bucket["count"] for bucket in counted["found_in"]}
    assert by_value["map"] >= 1  # the words were read from the map of item_with_words
    expect(on_map.locator(".facet-count")).to_have_text(str(by_value["map"]))
    assert result_count(page) >= sum(by_value.values())  # the facet counts keyword matches only
    assert_accessible(page)
    with updated_in_place(page):
        on_map.locator("input").check()
    assert query_of(page)["found_in"] == ["map"]
    assert result_count(page) == by_value["map"]  # keyword matches found on the map only
    expect(page.locator(f'li.card[data-id="{item_with_words}"] .card-map-text')).to_have_text(
        "on the map: Elmouth, Norber"
    )
    chip = page.locator(".filter-chip", has_text="Words found in:")
    expect(chip).to_contain_text("On the map")
    assert_accessible(page)
    save_screenshot(page, "search-found-in")
    with updated_in_place(page):
        chip.locator(".filter-chip-remove").click()
    assert "found_in" not in query_of(page)
    expect(facet.locator('input[value="map"]')).not_to_be_checked()
