"""Small helpers shared by the browser tests: read
what the page shows, ask the JSON API the same."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page

from tests.browser.conftest import LiveApp


def result_ids(page: Page, selector: str = "#results .card") -> list[str]:
    """Ids of the result cards, in page order."""
    return list(page.locator(selector).evaluate_all("cards => cards.map(card => card.dataset.id)"))


def result_count(page: Page) -> int:
    """The result count in the results heading."""
    return int(page.locator(".result-count").get_attribute("data-total") or "-1")


def query_of(page: Page) -> dict[str, list[str]]:
    """The page URL's query string (the search's whole state)."""
    return parse_qs(urlsplit(page.url).query)


def api_search(live: LiveApp, query: dict[str, Any] | list[tuple[str, str]]) -> dict[str, Any]:
    """The JSON API's answer for the same query (through the same app, no browser)."""
    response = live.app.test_client().get("/api/search", query_string=query)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def api_ids(live: LiveApp, page: Page) -> list[str]:
    """Hit ids the JSON API gives for the query in the page's URL."""
    pairs = [(key, value) for key, values in query_of(page).items() for value in values]
    return [hit["id"] for hit in api_search(live, pairs)["hits"]]


UPDATES = "Number(document.documentElement.dataset.searchUpdates || 0)"


@contextmanager
def updated_in_place(page: Page) -> Iterator[None]:
    """Wait until the search page has updated itself in place (search.js) after the block, and
    check that it was no navigation (a marker set on the window before survives)."""
    before = page.evaluate(UPDATES)
    page.evaluate("window.__samePage = true")
    yield
    page.wait_for_function(f"n => {UPDATES} > n", arg=before)
    assert page.evaluate("window.__samePage === true"), "the page was reloaded, not updated"
