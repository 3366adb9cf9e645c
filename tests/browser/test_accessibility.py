"""Accessibility in a real Chromium: axe-core (WCAG 2.2 AA + best practice) finds nothing on
every page and state, a keyboard alone can search, filter and page, and a 360 px phone shows the
search and its filters at the top."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import STAFF_TOKEN, LiveApp
from tests.support.axe import assert_accessible
from tests.support.browser import query_of, result_count, updated_in_place

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/?q=sea+monsters",
    "/?q=city+plan&image_id=demo:00003&modify=grayscale:0.5&collection=Maps+of+the+Americas",
    "/?q=sea+monsters&year_from=1700&year_to=1899&has_image=true",
    "/?q=zzzqqq",
    "/?q=maps&year_from=1900&year_to=1800",
    "/items/demo:00003",
    "/items/demo:nope",
    "/staff",
]


@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_violations(page: Page, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    assert_accessible(page)


def test_axe_after_signing_in_to_staff(page: Page) -> None:
    page.goto("/staff")
    page.fill("#staff-token", STAFF_TOKEN)
    page.keyboard.press("Enter")
    page.wait_for_selector("#console:not([hidden])")
    page.wait_for_selector('#index-status td[data-field="documents"]')
    assert_accessible(page)


@pytest.mark.parametrize("width", [360])
def test_axe_on_a_phone(browser: Browser, live_app: LiveApp, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 780}, base_url=live_app.url)
    page = context.new_page()
    for path in PAGES[:4]:
        page.goto(path)
        assert_accessible(page)
    context.close()


def tab_to(page: Page, selector: str, limit: int = 120) -> None:
    """Press Tab until the focused element matches ``selector`` (fails after ``limit`` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"Tab never reached {selector}")


def test_keyboard_only_search_filter_steer_and_page(page: Page, live_app: LiveApp) -> None:
    page.goto("/")
    tab_to(page, "#q")
    page.keyboard.type("city plan")
    with updated_in_place(page):
        page.keyboard.press("Enter")
    expect(page.locator("#q")).to_be_focused()
    assert query_of(page) == {"q": ["city plan"]}
    expect(page.locator("#search-announcer")).to_contain_text(f"{result_count(page)} map")
    # a facet value, ticked with the space bar; focus stays on it
    tab_to(page, '.facet[data-facet="format"] input')
    value = page.evaluate("document.activeElement.value")
    with updated_in_place(page):
        page.keyboard.press("Space")
    assert query_of(page)["format"] == [value]
    assert page.evaluate("document.activeElement.value") == value
    # its chip above the results removes it again (Shift+Tab goes back up to it)
    tab_to(page, ".filter-chip-remove[aria-label^='Remove format']")
    with updated_in_place(page):
        page.keyboard.press("Enter")
    assert "format" not in query_of(page)
    assert page.evaluate("document.activeElement.matches('.filter-chip-remove')")
    # "Search with this map" on a card, by name, then the mix slider with the arrow keys
    tab_to(page, "#results .search-with")
    name = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert name.startswith("Search with this map: ")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert query_of(page)["image_id"]
    tab_to(page, "#q")
    page.keyboard.type("harbour")
    with updated_in_place(page):
        page.keyboard.press("Enter")
    tab_to(page, "#mix")
    with updated_in_place(page):
        page.keyboard.press("ArrowLeft")
    expect(page.locator("#mix")).to_be_focused()
    assert query_of(page)["mix"] == ["-0.1"]
    # paging: Next moves focus to the results, which are the next page's
    if page.locator('.pagination a[rel="next"]').count():
        tab_to(page, '.pagination a[rel="next"]', limit=600)
        with updated_in_place(page):
            page.keyboard.press("Enter")
        assert query_of(page)["page"] == ["2"]
        assert page.evaluate("document.activeElement.id") == "results-heading"


def test_every_search_with_this_map_link_has_its_own_name(page: Page) -> None:
    page.goto("/?size=60")
    names = page.locator("#results .search-with").evaluate_all(
        "links => links.map(link => link.getAttribute('aria-label'))"
    )
    assert len(names) == 60 and len(set(names)) == 60


def test_a_phone_shows_the_search_and_its_filters_at_the_top(
    browser: Browser, live_app: LiveApp
) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 780}, base_url=live_app.url)
    page = context.new_page()
    page.goto("/?q=city+plan&has_image=true&year_from=1700&year_to=1899")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    chips = page.locator("#active-filters")
    box = chips.bounding_box()
    assert box is not None and box["y"] + box["height"] < 780  # on the first screen
    results = page.locator("#results").bounding_box()
    filters = page.locator("#filters").bounding_box()
    assert results is not None and filters is not None and results["y"] < filters["y"]
    # tapping a chip's × updates in place, and the page still fits
    with updated_in_place(page):
        page.locator(".filter-chip-remove[aria-label^='Remove years']").click()
    assert query_of(page) == {"q": ["city plan"], "has_image": ["true"]}
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page)
    context.close()
