"""Page weight in a real Chromium: a 20-map results page, every thumbnail loaded, stays under
300 KB on the wire (thumbnails made at index time, compression), and a second visit costs only
the HTML (versioned static files cached for good)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

PAGE = "/?q=city+plan&min_similarity=-1"  # every map ranked: a full page of 20


def wire_bytes(page: Page) -> dict[str, int]:
    """Bytes on the wire per resource type while the page loads (DevTools protocol)."""
    totals: dict[str, int] = {}
    types: dict[str, str] = {}
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")

    def response(event: dict[str, Any]) -> None:
        types[event["requestId"]] = event.get("type", "Other")

    def finished(event: dict[str, Any]) -> None:
        kind = types.get(event["requestId"], "Other")
        totals[kind] = totals.get(kind, 0) + int(event.get("encodedDataLength", 0))

    session.on("Network.responseReceived", response)
    session.on("Network.loadingFinished", finished)
    return totals


def load_all(page: Page) -> None:
    page.goto(PAGE)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('#results img')).every(img => img.complete)"
    )


def test_a_results_page_of_20_maps_is_under_300_kb(page: Page) -> None:
    totals = wire_bytes(page)
    load_all(page)
    assert page.locator("#results .card").count() == 20
    srcset = page.locator("#results img").first.get_attribute("srcset") or ""
    assert "-300.webp 300w" in srcset and "-600.webp 600w" in srcset
    assert sum(totals.values()) < 300_000, totals
    assert totals.get("Image", 0) < 20 * 15_000, totals  # thumbnails, not the original PNGs
    totals.clear()
    load_all(page)
    assert set(totals) <= {"Document", "Image", "Script", "Stylesheet", "Other"}
    assert sum(totals.values()) == totals.get("Document"), totals  # the rest came from cache
