"""The same browser flows on the Elasticsearch backend: the demo collection's documents (vectors
included, so nothing is embedded twice) copied into a fresh Elasticsearch index prefix."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveApp, served
from tests.support.browser import (
    api_ids,
    api_search,
    query_of,
    result_count,
    result_ids,
    updated_in_place,
)
from tests.support.es import ES_URL, es_client, fresh_prefix, remove_prefix
from webapi.app import create_app
from webapi.search.params import SearchParams
from webapi.services import services_of

pytestmark = [pytest.mark.browser, pytest.mark.elasticsearch]


@pytest.fixture(scope="module")
def es_app(live_app: LiveApp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The app on Elasticsearch over the embedded demo index's documents, served on 127.0.0.1."""
    client = es_client()
    prefix = fresh_prefix("ui")
    data_dir = tmp_path_factory.mktemp("browser-es") / "data"
    data_dir.mkdir(parents=True)
    (data_dir / "images").symlink_to(live_app.data_dir / "images")
    app = create_app(
        {
            "data_dir": data_dir,
            "backend": "elasticsearch",
            "es_url": ES_URL,
            "es_prefix": prefix,
            "TESTING": True,
        }
    )
    source = services_of(live_app.app)
    ids = [hit.id for hit in source.search.search(SearchParams(size=100)).hits]
    backend = services_of(app).backend
    report = backend.write(source.backend.fetch(ids).values())
    assert report.written == len(ids) == 60, report
    backend.refresh()  # type: ignore[attr-defined]
    try:
        with served(app, "browser-es-server") as url:
            yield LiveApp(url, app, data_dir)
    finally:
        services_of(app).close()
        remove_prefix(client, prefix)


def test_text_search_and_facets_on_elasticsearch(
    page: Page, es_app: LiveApp, live_app: LiveApp
) -> None:
    page.goto(f"{es_app.url}/?q=sea+monsters")
    ids = result_ids(page)
    assert ids and ids == api_ids(es_app, page)
    assert result_count(page) == api_search(es_app, {"q": "sea monsters"})["total"]
    label = page.locator('.facet[data-facet="subject"] label').first
    value = label.locator(".facet-value").inner_text()
    count = int(label.locator(".facet-count").inner_text())
    with updated_in_place(page):
        label.locator("input").check()
    assert query_of(page)["subject"] == [value]
    assert result_count(page) == count
    # the same facet count as the embedded backend gives for the same query
    embedded = api_search(live_app, [("q", "sea monsters"), ("subject", value)])
    assert embedded["total"] == count


def test_item_page_and_more_like_this_on_elasticsearch(page: Page, es_app: LiveApp) -> None:
    page.goto(f"{es_app.url}/items/demo:00005")
    expect(page.locator("#viewer")).to_have_attribute("data-ready", "true")
    similar = result_ids(page, "#similar .card")
    api = es_app.app.test_client().get("/api/items/demo:00005/similar?size=12").get_json()
    assert similar == [hit["id"] for hit in api["hits"]] and "demo:00005" not in similar


def test_year_bar_and_csv_export_on_elasticsearch(page: Page, es_app: LiveApp) -> None:
    page.goto(f"{es_app.url}/")
    bar = page.locator(".histogram .bar:not(.empty)").first
    with updated_in_place(page):
        bar.click()
    decade = int(query_of(page)["year_from"][0])
    total = result_count(page)
    csv_url = page.locator('.export-link[data-format="CSV"]').get_attribute("href")
    rows = list(csv.DictReader(io.StringIO(page.request.get(f"{es_app.url}{csv_url}").text())))
    assert len(rows) == total > 0
    assert all(
        int(row["year_end"]) >= decade and int(row["year_start"]) <= decade + 9 for row in rows
    )
