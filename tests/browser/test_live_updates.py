"""The search page keeps up with the reader (Chromium): facets, the mix slider, modifier chips,
the year histogram and the filter chips update the results in place, the URL stays the
permalink (Back works), focus stays on the control used, and the new count is announced."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from indexer.synthetic import read_ground_truth
from tests.browser.conftest import LiveApp
from tests.support.browser import (
    api_ids,
    api_search,
    query_of,
    result_count,
    result_ids,
    updated_in_place,
)

pytestmark = pytest.mark.browser


def announced(page: Page) -> str:
    """What the polite live region says."""
    return page.locator("#search-announcer").inner_text()


def test_a_facet_checkbox_updates_in_place_and_keeps_focus(page: Page, live_app: LiveApp) -> None:
    page.goto("/?q=city+plan")
    box = page.locator('.facet[data-facet="collection"] input').first
    value = box.get_attribute("value")
    box.focus()
    with updated_in_place(page):
        page.keyboard.press("Space")
    assert query_of(page) == {"q": ["city plan"], "collection": [str(value)]}
    assert result_ids(page) == api_ids(live_app, page)
    focused = page.locator('.facet[data-facet="collection"] input:focus')
    expect(focused).to_have_attribute("value", str(value))
    expect(focused).to_be_checked()
    total = api_search(live_app, {"q": "city plan", "collection": value})["total"]
    assert result_count(page) == total
    expect(page.locator("#search-announcer")).to_contain_text(f"{total} map")
    # the chip above the results says what is chosen, and removes it again
    chip = page.locator(".filter-chip", has_text=str(value))
    expect(chip).to_be_visible()
    with updated_in_place(page):
        chip.locator(".filter-chip-remove").click()
    assert query_of(page) == {"q": ["city plan"]}
    # Back returns to the filtered search: the URL is the state
    with updated_in_place(page):
        page.go_back()
    assert query_of(page)["collection"] == [str(value)]
    expect(page.locator(f'.facet input[value="{value}"]')).to_be_checked()
    assert result_count(page) == total


def test_the_mix_slider_moves_by_keyboard_with_one_update(page: Page, live_app: LiveApp) -> None:
    page.goto("/?q=sea+monsters&image_id=demo:00003")
    page.locator("#mix").focus()
    with updated_in_place(page):
        for _ in range(5):
            page.keyboard.press("ArrowRight")
    expect(page.locator("#mix")).to_be_focused()
    assert query_of(page)["mix"] == ["0.5"]
    assert page.evaluate("document.documentElement.dataset.searchUpdates") == "1"  # debounced
    assert result_ids(page) == api_ids(live_app, page)
    with updated_in_place(page):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#mix")).to_be_focused()
    assert query_of(page)["mix"] == ["0.6"]


def test_modifier_chip_buttons_keep_focus(page: Page, live_app: LiveApp) -> None:
    page.goto("/?q=city+plan&modify=grayscale")
    more = page.locator(".chip-more")
    more.focus()
    with updated_in_place(page):
        page.keyboard.press("Enter")
    expect(page.locator(".chip-more")).to_be_focused()
    assert query_of(page)["modify"] == [page.locator(".chip input").get_attribute("value")]
    assert result_ids(page) == api_ids(live_app, page)
    with updated_in_place(page):
        page.keyboard.press("Enter")
    expect(page.locator(".chip-more")).to_be_focused()
    expect(page.locator(".chip-weight")).to_have_text(
        f"+{float(query_of(page)['modify'][0].split(':')[1]):g}"
    )


def test_start_over_clears_everything(page: Page) -> None:
    page.goto("/?q=chart&has_image=true&year_from=1700&year_to=1899")
    chips = page.locator(".filter-chip")
    expect(chips).to_have_count(3)
    with updated_in_place(page):
        page.click("#start-over")
    assert query_of(page) == {}
    expect(page.locator(".filter-chip")).to_have_count(0)
    assert result_count(page) == 60
    expect(page.locator("#q")).to_have_value("chart")  # what the reader typed is theirs to clear


def test_histogram_is_one_control_with_arrow_keys_and_a_drag(page: Page, live_app: LiveApp) -> None:
    page.goto("/")
    histogram = page.locator("#year-histogram")
    first = int(histogram.get_attribute("data-first") or "0")
    last = int(histogram.get_attribute("data-last") or "0")
    # the bars are no tab stops; the two decade sliders are, with 24 px thumbs
    assert page.locator("#year-histogram a, #year-histogram [tabindex]").count() == 0
    page.locator("#decade-from").focus()
    with updated_in_place(page):
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
    expect(page.locator("#decade-from")).to_be_focused()
    assert query_of(page) == {"year_from": [str(first + 20)], "year_to": [str(last + 9)]}
    assert result_count(page) == api_search(live_app, query_of(page))["total"]
    valuetext = page.locator("#decade-from").get_attribute("aria-valuetext") or ""
    assert valuetext.startswith(f"{first + 20}s: ")
    # drag across bars 1..3 of the (new) histogram
    bars = page.locator("#year-histogram .histogram").bounding_box()
    assert bars is not None
    count = page.locator("#year-histogram .bar").count()
    decades = [
        int(d)
        for d in page.locator("#year-histogram .bar").evaluate_all(
            "bars => bars.map(bar => bar.dataset.decade)"
        )
    ]
    step = bars["width"] / count
    y = bars["y"] + bars["height"] / 2
    page.mouse.move(bars["x"] + 1.5 * step, y)
    page.mouse.down()
    page.mouse.move(bars["x"] + 2.5 * step, y, steps=3)
    with updated_in_place(page):
        page.mouse.move(bars["x"] + 3.5 * step, y, steps=3)
        page.mouse.up()
    assert query_of(page) == {"year_from": [str(decades[1])], "year_to": [str(decades[3] + 9)]}
    slider = page.locator("#decade-to").bounding_box()
    assert slider is not None and slider["height"] >= 24  # WCAG 2.2 target size


def test_this_map_plus_grayscale_works_in_one_click(page: Page, live_app: LiveApp) -> None:
    truth = read_ground_truth(live_app.data_dir)
    example = "demo:00005"
    assert truth[example]["colour_scheme"] != "grayscale"
    page.goto(f"/?image_id={example}")
    page.fill("#new-modifier", "grayscale")
    with updated_in_place(page):
        page.press("#new-modifier", "Enter")
    expect(page.locator(".chip-weight")).to_have_text("+1.5")  # the calibrated default
    top = [doc for doc in result_ids(page) if doc != example][:10]
    grayscale = sum(truth[doc]["colour_scheme"] == "grayscale" for doc in top)
    assert grayscale >= 7, top  # the 60-map demo holds 10 grayscale maps
    # the old default (+0.5) barely moved the results
    old = api_search(live_app, {"image_id": example, "modify": "grayscale:0.5", "size": 11})
    old_top = [hit["id"] for hit in old["hits"] if hit["id"] != example][:10]
    assert sum(truth[doc]["colour_scheme"] == "grayscale" for doc in old_top) <= 3
