"""Honest result sets, paging within the window and years in the words, in a real Chromium: the
count says what it is, a nonsense query gets "no close matches", the pager stops at the window's
last page, and a year typed into the words is offered as a filter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveApp, served
from tests.support.browser import api_search, result_count, result_ids, updated_in_place
from webapi.app import create_app
from webapi.services import services_of

pytestmark = pytest.mark.browser

WINDOW = 30  # a candidate window smaller than the 60-map demo collection


@pytest.fixture
def small_window_url(live_app: LiveApp) -> Iterator[str]:
    """A second app over the same index whose candidate window holds 30 maps."""
    app = create_app({"data_dir": live_app.data_dir, "num_candidates": WINDOW, "TESTING": True})
    try:
        with served(app, "small-window-server") as url:
            yield url
    finally:
        services_of(app).close()


def test_a_nonsense_query_says_no_close_matches(page: Page, live_app: LiveApp) -> None:
    page.goto("/?q=zzzqqq")
    expect(page.locator("#no-close-matches")).to_be_visible()
    expect(page.locator("#no-close-matches")).to_contain_text("No close matches for “zzzqqq”")
    assert result_count(page) == 0 and result_ids(page) == []
    assert api_search(live_app, {"q": "zzzqqq"})["total"] == 0
    with updated_in_place(page):
        page.click("#closest-anyway")
    assert "min_similarity=-1" in page.url
    heading = page.locator("#results-heading")
    expect(heading).to_have_attribute("data-total-kind", "best_matches")
    expect(heading).to_contain_text("Best 60 matches")
    assert len(result_ids(page)) == 20
    expect(page.locator("#total-note")).to_contain_text("not a count of maps")


def test_a_text_query_counts_only_close_matches(page: Page, live_app: LiveApp) -> None:
    api = api_search(live_app, {"q": "sea monsters", "facet": "decade"})
    assert api["total_kind"] == "exact" and api["query"]["min_similarity_source"] == "model"
    assert 0 < api["total"] < 60  # the demo model's bar keeps the unrelated maps out
    page.goto("/?q=sea+monsters")
    assert result_count(page) == api["total"]
    expect(page.locator("#results-heading")).to_have_attribute("data-total-kind", "exact")
    bars = page.locator(".histogram .bar").evaluate_all(
        "bars => bars.map(bar => Number(bar.dataset.count))"
    )
    counted = sum(bars)
    assert counted == sum(b["count"] for b in api["facets"]["decade"])
    assert counted <= api["total"]


def test_the_pager_stops_at_the_window(page: Page, small_window_url: str) -> None:
    page.goto(f"{small_window_url}/?image_id=demo:00001")
    heading = page.locator("#results-heading")
    expect(heading).to_contain_text(f"Best {WINDOW} matches")
    labels = page.locator(".pagination a").all_inner_texts()
    assert labels == ["2", "Next"]  # 30 reachable at 20 a page: no page 3
    expect(page.locator("#window-notice")).to_have_count(0)
    with updated_in_place(page):
        page.click(".pagination a[rel=next]")
    assert len(result_ids(page)) == WINDOW - 20
    assert page.locator(".pagination a").all_inner_texts() == ["Previous", "1"]
    notice = page.locator("#window-notice")
    expect(notice).to_contain_text("This is the last page")
    expect(notice).to_contain_text("Narrow the search")


def test_a_year_in_the_words_is_offered_as_a_filter(page: Page, live_app: LiveApp) -> None:
    plain = api_search(live_app, {"q": "city plan"})["total"]
    page.goto("/?q=city+plan+1850s")
    assert result_count(page) == plain  # the decade is not a required word
    suggestion = page.locator("#year-suggestion")
    expect(suggestion).to_contain_text("“1850s” is read as a date")
    with updated_in_place(page):
        suggestion.locator("a").click()
    assert "year_from=1850" in page.url and "year_to=1859" in page.url
    expect(page.locator("#year-suggestion")).to_have_count(0)
    assert page.locator("#year_from").input_value() == "1850"
