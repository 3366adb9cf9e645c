"""The search page in a real Chromium: words, example maps, mix, modifiers, facets, years, map
area, paging, permalinks, exports, errors, small screens and the keyboard."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveApp, save_screenshot
from tests.support.browser import (
    api_ids,
    api_search,
    query_of,
    result_count,
    result_ids,
    updated_in_place,
)

pytestmark = pytest.mark.browser


def search(page: Page, words: str) -> None:
    page.goto("/")
    page.fill("#q", words)
    with updated_in_place(page):
        page.press("#q", "Enter")


def test_text_search_shows_the_api_results_with_explain(page: Page, live_app: LiveApp) -> None:
    search(page, "sea monsters")
    assert query_of(page) == {"q": ["sea monsters"]}  # defaults stay out of the permalink
    ids = result_ids(page)
    total = api_search(live_app, {"q": "sea monsters"})["total"]
    assert 0 < len(ids) == min(20, total)  # only maps above the model's similarity bar
    assert ids == api_ids(live_app, page)
    assert result_count(page) == total
    first = page.locator("#results .card").first
    expect(first.locator("img")).to_have_attribute("loading", "lazy")
    assert first.locator("img").get_attribute("alt") == first.locator(".card-title").inner_text()
    first.locator(".explain summary").click()
    expect(first.locator(".explain-semantic-rank")).to_be_visible()
    rank_texts = [
        first.locator(sel).inner_text()
        for sel in (".explain-keyword-rank", ".explain-semantic-rank")
    ]
    assert any(re.match(r"^\d+", text) for text in rank_texts), rank_texts
    assert re.match(r"^-?\d\.\d{3}$", first.locator(".explain-similarity").inner_text())
    save_screenshot(page, "search-page")


def test_plain_text_search_works_without_javascript(browser: Browser, live_app: LiveApp) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=live_app.url)
    page = context.new_page()
    page.goto("/")
    page.fill("#q", "harbour chart")
    with page.expect_navigation():
        page.press("#q", "Enter")
    assert query_of(page)["q"] == ["harbour chart"]
    assert result_ids(page) == api_ids(live_app, page)
    # the upload form's fallback: post the file, land on the permalink of a search by its token
    page.set_input_files("#image-file", str(live_app.data_dir / "images" / "demo-00011.png"))
    with page.expect_navigation():
        page.click("button.upload-button")
    assert query_of(page)["q"] == ["harbour chart"] and query_of(page)["image_token"]
    expect(page.locator(".example-preview img")).to_be_visible()
    context.close()


def test_uploaded_map_finds_itself_and_its_permalink_reloads(page: Page, live_app: LiveApp) -> None:
    page.goto("/")
    target = "demo:00007"
    with page.expect_navigation(url=re.compile(r"image_token=")):
        page.set_input_files("#image-file", str(live_app.data_dir / "images" / "demo-00007.png"))
    expect(page.locator(".example-preview img")).to_be_visible()
    ids = result_ids(page)
    assert ids[0] == target  # the same picture is its own nearest neighbour
    page.reload()
    assert result_ids(page) == ids
    # a file that is not an image: the API's problem is shown, the page stays usable
    page.set_input_files(
        "#image-file",
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not an image"}],
    )
    expect(page.locator("#upload-status.error")).to_contain_text("Not an image")
    assert result_ids(page) == ids


DROP_FILE = """async ([selector, bytes, eventName]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([new Uint8Array(bytes)], "dropped.png", {type: "image/png"}));
  const target = document.querySelector(selector);
  if (eventName === "paste") {
    target.dispatchEvent(new ClipboardEvent("paste", {clipboardData: transfer, bubbles: true}));
  } else {
    target.dispatchEvent(
      new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
  }
}"""


@pytest.mark.parametrize("how", ["drop", "paste"])
def test_dropped_or_pasted_map_becomes_the_example(page: Page, live_app: LiveApp, how: str) -> None:
    page.goto("/?q=chart")
    image = list((live_app.data_dir / "images" / "demo-00021.png").read_bytes())
    with page.expect_navigation(url=re.compile(r"image_token=")):
        page.evaluate(DROP_FILE, ["#dropzone" if how == "drop" else "body", image, how])
    assert query_of(page)["q"] == ["chart"]
    expect(page.locator(".example-preview img")).to_be_visible()
    assert result_ids(page) == api_ids(live_app, page)


def test_pasted_image_url_is_fetched_as_the_example(page: Page, live_app: LiveApp) -> None:
    page.goto("/")
    page.fill("#image_url", f"{live_app.url}/images/demo-00021.png")
    with updated_in_place(page):
        page.press("#image_url", "Enter")
    assert result_ids(page)[0] == "demo:00021"
    expect(page.locator(".example-preview img")).to_have_attribute(
        "src", f"{live_app.url}/images/demo-00021.png"
    )


def test_search_with_this_map_then_mix_slider_moves_between_image_and_words(
    page: Page, live_app: LiveApp
) -> None:
    search(page, "city plan")  # 15 close matches in the 60-map demo
    card = page.locator("#results .card").nth(3)
    chosen = card.get_attribute("data-id")
    with page.expect_navigation():
        card.locator(".search-with").click()
    assert query_of(page)["image_id"] == [chosen]
    assert result_ids(page)[0] == chosen
    # words plus the example map: the slider appears
    page.fill("#q", "sea monsters")
    with updated_in_place(page):
        page.press("#q", "Enter")
    mixed = result_ids(page)
    save_screenshot(page, "search-words-and-map")
    with updated_in_place(page):
        page.locator("#mix").fill("1")
    assert query_of(page)["mix"] == ["1"]
    words_only = result_ids(page)
    assert words_only == api_ids(live_app, page)
    with updated_in_place(page):
        page.locator("#mix").fill("-1")
    assert query_of(page)["mix"] == ["-1"]
    image_only = result_ids(page)
    assert image_only == api_ids(live_app, page)
    # the words still drive the keyword list; the semantic list is now the example map's alone
    rank = page.locator(f'#results .card[data-id="{chosen}"] .explain-semantic-rank')
    expect(rank).to_have_text("1")
    assert len({tuple(mixed), tuple(words_only), tuple(image_only)}) >= 2


def test_modifier_chips_add_raise_and_remove(page: Page, live_app: LiveApp) -> None:
    search(page, "city plan")
    plain = result_ids(page)
    page.fill("#new-modifier", "grayscale")
    with updated_in_place(page):
        page.press("#new-modifier", "Enter")
    assert query_of(page)["modify"] == ["grayscale"]
    chip = page.locator(".chip")
    expect(chip.locator(".chip-weight")).to_have_text("+1.5")  # the demo model's default
    modified = result_ids(page)
    assert modified == api_ids(live_app, page)
    assert modified != plain
    with updated_in_place(page):
        chip.locator(".chip-more").click()
    expect(page.locator(".chip .chip-weight")).to_have_text("+1.75")
    assert query_of(page)["modify"] == ["grayscale:+1.75"]
    with updated_in_place(page):
        page.locator(".chip .chip-remove").click()
    expect(page.locator(".chip")).to_have_count(0)
    assert result_ids(page) == plain


def test_facets_filter_multi_select_and_typeahead(page: Page, live_app: LiveApp) -> None:
    page.goto("/")
    total = result_count(page)
    assert total == 60  # browse: the whole collection
    collection = page.locator('.facet[data-facet="collection"]')
    first_label = collection.locator("label").first
    value = first_label.locator(".facet-value").inner_text()
    count = int(first_label.locator(".facet-count").inner_text())
    with updated_in_place(page):
        first_label.locator("input").check()
    assert query_of(page)["collection"] == [value]
    assert result_count(page) == count
    # a second value of the same facet widens the set (OR within a facet)
    # pinned by value: a ":not(:checked)" locator would name another box once the facet list is
    # replaced in place, and check() re-resolving it would tick a third value
    second_value = page.locator(
        '.facet[data-facet="collection"] input:not(:checked)'
    ).first.get_attribute("value")
    second = page.locator(f'.facet[data-facet="collection"] input[value="{second_value}"]')
    with updated_in_place(page):
        second.check()
    chosen = query_of(page)["collection"]
    assert len(chosen) == 2
    assert (
        result_count(page)
        == api_search(live_app, [("collection", c) for c in chosen])["total"]
        >= count
    )
    # typeahead over a long list: only matching values stay visible
    page.goto("/")
    places = page.locator('.facet[data-facet="place"]')
    values = places.locator(".facet-value").all_inner_texts()
    assert len(values) > 8
    needle = values[0][:4].lower()
    places.locator(".facet-filter").fill(needle)
    visible = places.locator("li:visible .facet-value").all_inner_texts()
    assert visible and all(needle in v.lower() for v in visible)
    assert len(visible) < len(values)


def test_year_histogram_and_year_inputs_narrow_the_results(page: Page, live_app: LiveApp) -> None:
    page.goto("/")
    bar = page.locator(".histogram .bar:not(.empty)").first
    decade = int(bar.get_attribute("data-decade") or "0")
    with updated_in_place(page):
        bar.click()
    assert query_of(page)["year_from"] == [str(decade)]
    assert query_of(page)["year_to"] == [str(decade + 9)]
    hits = api_search(live_app, {"year_from": decade, "year_to": decade + 9, "size": 100})["hits"]
    assert result_ids(page) == [hit["id"] for hit in hits][:20]
    assert all(hit["year_end"] >= decade and hit["year_start"] <= decade + 9 for hit in hits)
    page.fill("#year_from", "1700")
    page.fill("#year_to", "1799")
    with updated_in_place(page):
        page.press("#year_to", "Enter")
    assert query_of(page)["year_from"] == ["1700"]
    assert result_count(page) == api_search(live_app, {"year_from": 1700, "year_to": 1799})["total"]


def test_drawing_a_box_on_the_world_map_filters_by_area(page: Page, live_app: LiveApp) -> None:
    page.goto("/")
    box = page.locator("#bbox-map svg").bounding_box()
    assert box is not None

    # drag over Europe: lon -10..30, lat 35..60 on an equirectangular map
    def at(lon: float, lat: float) -> tuple[float, float]:
        return box["x"] + (lon + 180) / 360 * box["width"], box["y"] + (90 - lat) / 180 * box[
            "height"
        ]

    page.mouse.move(*at(-10, 60))
    page.mouse.down()
    page.mouse.move(*at(10, 45), steps=4)
    with updated_in_place(page):
        page.mouse.move(*at(30, 35), steps=4)
        page.mouse.up()
    west, south, east, north = (float(v) for v in query_of(page)["bbox"][0].split(","))
    assert west == pytest.approx(-10, abs=2) and east == pytest.approx(30, abs=2)
    assert south == pytest.approx(35, abs=2) and north == pytest.approx(60, abs=2)
    expect(page.locator("#bbox-rect")).to_be_visible()
    total = result_count(page)
    assert 0 < total < 60
    assert total == api_search(live_app, {"bbox": query_of(page)["bbox"][0]})["total"]


def test_paging_walks_the_results_without_repeats(page: Page) -> None:
    page.goto("/")
    first_page = result_ids(page)
    with updated_in_place(page):
        page.locator('.pagination a[rel="next"]').click()
    assert query_of(page)["page"] == ["2"]
    expect(page.locator('.pagination [aria-current="page"]')).to_have_text("2")
    second_page = result_ids(page)
    assert len(second_page) == 20 and not set(first_page) & set(second_page)


def test_sorting_by_year_orders_the_results_oldest_first(page: Page, live_app: LiveApp) -> None:
    search(page, "colorful map")  # 25 close matches in the 60-map demo
    with updated_in_place(page):
        page.select_option('select[name="sort"]', "year")
    assert query_of(page)["sort"] == ["year"]
    ids = result_ids(page)
    hits = {
        hit["id"]: hit
        for hit in api_search(live_app, {"q": "colorful map", "sort": "year"})["hits"]
    }
    assert ids == list(hits)
    years = [hits[i]["year_start"] for i in ids if hits[i]["year_start"] is not None]
    assert years == sorted(years) and len(years) > 10


def test_permalink_of_a_full_query_reloads_the_same_results(
    page: Page, browser: Browser, live_app: LiveApp
) -> None:
    search(page, "chart")
    page.fill("#new-modifier", "colour:-0.25")
    with updated_in_place(page):
        page.press("#new-modifier", "Enter")
    page.locator("details.advanced summary").click()
    with updated_in_place(page):
        page.select_option('select[name="fusion"]', "linear")
    if page.locator('.pagination a[rel="next"]').count():
        with updated_in_place(page):
            page.locator('.pagination a[rel="next"]').click()
    ids = result_ids(page)
    permalink = page.locator("#permalink").get_attribute("href")
    assert permalink and "fusion=linear" in permalink and "modify=" in permalink
    other = browser.new_context(base_url=live_app.url).new_page()
    other.goto(permalink)
    assert result_ids(other) == ids
    other.context.close()


def test_exports_parse_as_csv_json_and_iiif(page: Page, live_app: LiveApp) -> None:
    search(page, "sea monsters")
    links = {
        link.get_attribute("data-format"): link.get_attribute("href")
        for link in page.locator(".export-link").all()
    }
    total = result_count(page)
    with page.expect_download() as download_info:
        page.locator('.export-link[data-format="CSV"]').click()
    rows = list(
        csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8")))
    )
    assert len(rows) == min(total, 1000)
    assert rows[0]["id"] == result_ids(page)[0] and rows[0]["page_url"].endswith(
        "/items/" + rows[0]["id"]
    )
    exported = json.loads(page.request.get(str(links["JSON"])).text())
    assert [hit["id"] for hit in exported["hits"]] == [row["id"] for row in rows]
    collection = page.request.get(str(links["IIIF Collection"])).json()
    assert collection["@context"] == "http://iiif.io/api/presentation/3/context.json"
    assert collection["type"] == "Collection" and len(collection["items"]) == len(rows)
    manifest = page.request.get(collection["items"][0]["id"]).json()
    assert manifest["type"] == "Manifest"
    body = manifest["items"][0]["items"][0]["items"][0]["body"]
    assert page.request.get(body["id"]).ok  # the painted image really loads


def test_a_failed_search_shows_the_api_problem(page: Page, live_app: LiveApp) -> None:
    response = page.goto("/?q=maps&year_from=1900&year_to=1800")
    assert response is not None and response.status == 400
    api = (
        live_app.app.test_client().get("/api/search?q=maps&year_from=1900&year_to=1800").get_json()
    )
    expect(page.locator(".problem-title")).to_have_text(api["title"])
    expect(page.locator(".problem-detail")).to_have_text(api["detail"])
    expect(page.locator("#q")).to_have_value("maps")  # the form is still there to fix the query
    response = page.goto("/?q=maps&page=999")
    assert response is not None and response.status == 400
    expect(page.locator(".problem-detail")).to_contain_text("page 999")


def test_layout_holds_at_360_px(browser: Browser, live_app: LiveApp) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 780}, base_url=live_app.url)
    page = context.new_page()
    for path in (
        "/?q=sea+monsters&image_id=demo:00003&modify=grayscale:0.5",
        "/items/demo:00003",
        "/staff",
    ):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    page.goto("/?q=sea+monsters&image_id=demo:00003&modify=grayscale:0.5")
    save_screenshot(page, "search-page-360px")
    context.close()


def test_keyboard_reaches_search_with_visible_focus(page: Page) -> None:
    page.goto("/?q=sea+monsters")
    page.keyboard.press("Tab")
    skip = page.locator('.skip-link[href="#main"]')
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0  # shown when focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator("#q")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Tab")  # the Search button
    page.keyboard.press("Tab")  # the (visually hidden) file input: its label shows the focus
    expect(page.locator("#image-file")).to_be_focused()
    assert (
        page.locator(".dropzone-label .linkish").evaluate("el => getComputedStyle(el).outlineStyle")
        != "none"
    )
    # "Skip to results" leads past the filters to the result cards and their Explain toggles
    page.goto("/?q=sea+monsters")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator('.skip-link[href="#results-region"]')).to_be_focused()
    page.keyboard.press("Enter")
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.explain summary')"):
            break
    else:
        pytest.fail("Tab never reached a result's Explain toggle")
    page.keyboard.press("Enter")
    expect(page.locator(".explain[open]")).to_have_count(1)


UNLABELLED_CONTROLS = """() => Array.from(
    document.querySelectorAll('input:not([type=hidden]), select, textarea'))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
    && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 120))"""


def test_every_control_has_a_label_and_every_image_alt_text(page: Page) -> None:
    for path in (
        "/?q=sea+monsters&image_id=demo:00003&modify=grayscale:0.5",
        "/items/demo:00003",
        "/staff",
    ):
        page.goto(path)
        assert page.evaluate(UNLABELLED_CONTROLS) == [], path
        assert (
            page.evaluate(
                "Array.from(document.images).filter(img => !img.hasAttribute('alt')).length"
            )
            == 0
        ), path
