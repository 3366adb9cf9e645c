"""The browser UI's pure helpers: query-string state, links that change one part of it, IIIF
image URLs, exports and citations."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from indexer.records import MapRecord
from tests.support.paths import REPO
from webapi.search.params import Hit
from webapi.ui.active_filters import active_filters
from webapi.ui.export import hits_to_csv, hits_to_iiif_collection, record_manifest
from webapi.ui.images import iiif_service_of, thumbnail, tile_source
from webapi.ui.query import (
    REQUESTED_FACETS,
    clean_args,
    modifier_links,
    page_links,
    params_from_args,
    toggle_value,
    url_with,
)
from webapi.ui.records import citation
from webapi.ui.year_histogram import year_histogram


def qs(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_clean_args_drops_blanks_and_unknown_keys() -> None:
    args = clean_args(
        MultiDict(
            [("q", " maps "), ("modify", ""), ("place", "Paris"), ("place", "Rome"), ("utm", "x")]
        )
    )
    assert args.getlist("place") == ["Paris", "Rome"]
    assert args["q"] == "maps" and "modify" not in args and "utm" not in args


def test_params_from_args_validates_like_the_api_and_asks_for_facets() -> None:
    params = params_from_args(
        MultiDict([("q", "x"), ("collapse", "on"), ("modify", "grayscale:0.5")])
    )
    assert params.collapse is True and params.explain is True
    assert tuple(params.facet) == REQUESTED_FACETS
    assert params.facet_size == 300  # long place/subject lists reach the sidebar's filter box
    with pytest.raises(ValidationError):
        params_from_args(MultiDict([("year_from", "1900"), ("year_to", "1800")]))


def test_links_change_one_thing_and_reset_the_page() -> None:
    args = MultiDict([("q", "maps"), ("place", "Paris"), ("page", "3")])
    assert qs(toggle_value(args, "place", "Rome"))["place"] == ["Paris", "Rome"]
    assert "place" not in qs(toggle_value(args, "place", "Paris"))
    assert "page" not in qs(url_with(args, year_from=1700))
    assert qs(url_with(args, page=4))["page"] == ["4"]
    assert url_with(MultiDict(), "/export.csv") == "/export.csv"


def test_modifier_chips_step_clamp_and_remove() -> None:
    args = MultiDict([("q", "maps"), ("modify", "grayscale:1.9"), ("modify", "colour:-0.5")])
    chips = modifier_links(args, 1.5)
    assert [c["weight"] for c in chips] == ["+1.9", "-0.5"]
    assert qs(chips[0]["more"])["modify"] == [
        "grayscale:+2",
        "colour:-0.5",
    ]  # clamped to the API's limit
    assert qs(chips[1]["less"])["modify"] == ["grayscale:1.9", "colour:-0.75"]
    assert qs(chips[0]["remove"])["modify"] == ["colour:-0.5"]
    # without a weight: the model's default, shown and stepped from
    [plain] = modifier_links(MultiDict([("q", "maps"), ("modify", "sepia")]), 1.5)
    assert plain["weight"] == "+1.5" and qs(plain["more"])["modify"] == ["sepia:+1.75"]


def test_page_links_window_with_gaps() -> None:
    links = page_links(MultiDict([("q", "x")]), page=5, size=20, total=200)
    labels = [link["label"] for link in links]
    assert labels == ["Previous", "1", "…", "3", "4", "5", "6", "7", "…", "10", "Next"]
    assert [link for link in links if link.get("current")][0]["label"] == "5"
    assert page_links(MultiDict(), page=1, size=20, total=20)[-1]["label"] == "1"


def test_decade_histogram_fills_gaps_and_links_each_decade() -> None:
    histogram = year_histogram([("1780", 4), ("1800", 2), ("junk", 9)], MultiDict([("q", "x")]))
    bars = histogram.bars
    assert [(b.decade, b.count, b.height) for b in bars] == [
        (1780, 4, 100),
        (1790, 0, 0),
        (1800, 2, 50),
    ]
    assert qs(bars[0].url) == {"q": ["x"], "year_from": ["1780"], "year_to": ["1789"]}
    assert (histogram.first, histogram.last) == (1780, 1800)
    assert (histogram.range_from, histogram.range_to) == (1780, 1800)
    assert all(bar.in_range for bar in bars)
    assert year_histogram([], MultiDict()).bars == []


def test_decade_histogram_marks_the_chosen_years_and_keeps_them_on_the_axis() -> None:
    args = MultiDict([("year_from", "1785"), ("year_to", "1829")])
    histogram = year_histogram([("1790", 3), ("1800", 1)], args)
    assert (histogram.first, histogram.last) == (1780, 1820)
    assert (histogram.range_from, histogram.range_to) == (1780, 1820)
    assert histogram.counts == {1780: 0, 1790: 3, 1800: 1, 1810: 0, 1820: 0}
    narrow = year_histogram(
        [("1700", 1), ("1790", 3), ("1800", 1)], MultiDict([("year_from", "1790")])
    )
    assert [bar.decade for bar in narrow.bars if bar.in_range] == [1790, 1800]


def test_active_filters_name_each_part_of_the_search_with_a_link_that_drops_it() -> None:
    args = MultiDict(
        [
            ("q", "sea"),
            ("year_from", "1850"),
            ("collection", "a"),
            ("collection", "b"),
            ("has_image", "true"),
            ("bbox", "1,2,3,4"),
        ]
    )
    chips = active_filters(args, {"label": "Map 3", "remove_url": "/?q=sea"})
    assert [(c.label, c.value) for c in chips] == [
        ("Words", "“sea”"),
        ("Example map", "Map 3"),
        ("Years", "from 1850"),
        ("Area", "1,2,3,4"),
        ("Images", "only maps with an image"),
        ("Collection", "a"),
        ("Collection", "b"),
    ]
    assert "q" not in qs(chips[0].remove_url)
    assert qs(chips[6].remove_url)["collection"] == ["a"]
    assert active_filters(MultiDict(), None) == []


def test_iiif_thumbnails_get_size_requests_and_srcset() -> None:
    url = "https://tile.loc.gov/image-services/iiif/service:gmd:g3200:ct000001/full/pct:25/0/default.jpg"
    service = "https://tile.loc.gov/image-services/iiif/service:gmd:g3200:ct000001"
    assert iiif_service_of(url) == service
    thumb = thumbnail(url)
    assert thumb["src"] == f"{service}/full/!200,200/0/default.jpg"
    assert f"{service}/full/!800,800/0/default.jpg 800w" in thumb["srcset"]
    assert thumbnail("/images/demo-00001.png") == {"src": "/images/demo-00001.png", "srcset": None}
    assert tile_source(service, None) == {"kind": "iiif", "url": f"{service}/info.json"}
    assert tile_source(None, "/images/a.png") == {"kind": "image", "url": "/images/a.png"}
    assert tile_source(None, None) is None


def hit(i: int) -> Hit:
    return Hit(
        id=f"t:{i}",
        item_id=f"t:{i}",
        title=f"Map, {i}",
        date="1780",
        places=["A", "B"],
        score=0.5,
        thumbnail_url=f"http://example.org/{i}.jpg",
    )


def test_exports_parse() -> None:
    rows = list(
        csv.DictReader(io.StringIO(hits_to_csv([hit(1), hit(2)], lambda i: f"http://x/items/{i}")))
    )
    assert (
        rows[0]["title"] == "Map, 1"
        and rows[0]["places"] == "A; B"
        and rows[1]["page_url"] == "http://x/items/t:2"
    )
    collection = json.loads(
        hits_to_iiif_collection(
            [hit(1)], "http://x/export.iiif.json", "Results", lambda i: f"http://x/m/{i}"
        )
    )
    assert collection["type"] == "Collection" and collection["items"][0]["type"] == "Manifest"
    manifest = json.loads(
        record_manifest("http://x/m/1", "A map", None, "http://iiif/svc", 100, 50)
    )
    body = manifest["items"][0]["items"][0]["items"][0]["body"]
    assert (
        body["id"] == "http://iiif/svc/full/max/0/default.jpg"
        and body["service"][0]["type"] == "ImageService3"
    )


def test_citation_names_who_what_when_where() -> None:
    record = MapRecord(
        id="t:1",
        source="t",
        title="A new map of the world.",
        contributors=["Blaeu, Willem"],
        publisher="Amsterdam",
        date="1635",
        collections=["Early Maps"],
        source_url="https://example.org/1",
    )
    assert (
        citation(record)
        == "Blaeu, Willem. A new map of the world. Amsterdam, 1635. Early Maps. https://example.org/1."
    )


def test_vendored_front_end_matches_the_npm_manifest() -> None:
    """The committed build (static/vendor) is the one package.json pins: rebuild after a bump."""

    ui = REPO / "webapi" / "ui"
    pinned = json.loads((ui / "frontend" / "package.json").read_text())["devDependencies"][
        "openseadragon"
    ]
    assert f"openseadragon {pinned}" in (ui / "static" / "vendor" / "VERSIONS.txt").read_text()
    assert (
        ui / "static" / "vendor" / "openseadragon" / "openseadragon.min.js"
    ).stat().st_size > 100_000
    assert (ui / "static" / "vendor" / "world-110m.svg").read_text().startswith("<svg")


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_export_defuses_formula_cells(prefix: str) -> None:
    dangerous = f'{prefix}HYPERLINK("http://evil","x")'
    row = hit(1).model_copy(update={"title": dangerous, "places": [dangerous], "score": -0.25})
    (parsed,) = csv.DictReader(io.StringIO(hits_to_csv([row], lambda i: f"http://x/{i}")))
    assert parsed["title"] == "'" + dangerous and parsed["places"] == "'" + dangerous
    assert parsed["score"] == "-0.250000"  # a number stays a number
