"""Conformance: filters on both lists, facets and totals over the result set, the paging window,
and browsing (exact totals, facets, unlimited paging, sorts)."""

from __future__ import annotations

import pytest

from tests.support.corpus import ALL_IDS
from webapi.errors import status_of
from webapi.search.errors import PageOutOfWindow
from webapi.search.params import SearchParams, SearchResponse
from webapi.search.service import SearchService


def ids(response: SearchResponse) -> list[str]:
    return [hit.id for hit in response.hits]


def facet(response: SearchResponse, name: str) -> dict[str, int]:
    return {bucket.value: bucket.count for bucket in response.facets[name]}


FILTER_CASES: list[tuple[dict[str, object], set[str]]] = [
    (
        {"year_from": 1700, "year_to": 1800},
        {"c:02", "c:03", "c:05", "c:10"},
    ),  # overlap; undated c:09 dropped
    (
        {"year_from": 1705},
        {"c:02", "c:03", "c:04", "c:05", "c:06", "c:07", "c:10"},
    ),  # c:02 spans 1700-1710
    ({"place": ["Norway"]}, {"c:01", "c:02"}),
    ({"place": ["Norway", "Paris"]}, {"c:01", "c:02", "c:03", "c:04"}),  # OR within a field
    ({"subject": ["Sea monsters"]}, {"c:01", "c:08"}),
    ({"collection": ["City Plans"]}, {"c:03", "c:04", "c:09"}),
    ({"format": ["Manuscript maps"]}, {"c:01", "c:08"}),
    ({"language": ["fre"]}, {"c:03", "c:04"}),
    ({"source": ["bnf"]}, {"c:03", "c:04", "c:09"}),
    ({"has_image": False}, {"c:08"}),
    ({"has_image": True}, set(ALL_IDS) - {"c:08"}),
    ({"bbox": "0,40,10,60"}, {"c:01", "c:02", "c:03", "c:04", "c:06", "c:07", "c:09"}),
    ({"bbox": "170,-10,-170,10"}, {"c:05", "c:06", "c:07"}),  # query crosses the antimeridian
    ({"bbox": "-150,-10,-130,10"}, {"c:05", "c:06", "c:07"}),  # document crosses it
    ({"place": ["Paris"], "year_to": 1800}, {"c:03"}),  # AND across fields
    ({"place": ["Nowhere"]}, set()),
]


@pytest.mark.parametrize(("filters", "expected"), FILTER_CASES)
def test_filters_apply_to_both_lists_and_to_browse(
    service: SearchService, filters: dict[str, object], expected: set[str]
) -> None:
    browse = service.search(SearchParams(size=100, **filters))  # type: ignore[arg-type]
    assert set(ids(browse)) == expected and browse.total == len(expected)
    hybrid = service.search(SearchParams(q="sea monsters", explain=True, size=100, **filters))  # type: ignore[arg-type]
    assert set(ids(hybrid)) <= expected
    # every document has a vector or matches "sea monsters" (c:08), so the union is all of them
    assert hybrid.total == len(expected) and set(ids(hybrid)) == expected
    keyword = service.search(SearchParams(q="sea monsters", mode="keyword", size=100, **filters))  # type: ignore[arg-type]
    assert set(ids(keyword)) == expected & {"c:01", "c:08"}


def test_facets_count_the_union_of_keyword_matches_and_semantic_top_k(
    small_window: SearchService,
) -> None:
    response = small_window.search(
        SearchParams(
            q="sea monsters", facet=["subject", "place", "decade", "has_image", "collection"]
        )
    )
    # keyword matches {c:01, c:08} ∪ semantic top-3 {c:01, c:02, c:05}
    assert response.total == 4
    assert facet(response, "subject") == {"Nautical charts": 3, "Sea monsters": 2}
    assert facet(response, "place") == {"Norway": 2, "Pacific Ocean": 1, "Atlantic Ocean": 1}
    assert facet(response, "decade") == {"1530": 1, "1600": 1, "1700": 1, "1800": 1}
    assert facet(response, "has_image") == {"true": 3, "false": 1}
    assert [b.value for b in response.facets["place"]] == [
        "Norway",
        "Atlantic Ocean",
        "Pacific Ocean",
    ]  # count desc, value asc
    assert facet(response, "collection") == {"Carta Marina": 2, "Coastal Survey": 2}


def test_facet_size_keeps_the_largest_buckets(small_window: SearchService) -> None:
    response = small_window.search(
        SearchParams(q="sea monsters", facet=["place", "decade"], facet_size=1)
    )
    assert [(b.value, b.count) for b in response.facets["place"]] == [("Norway", 2)]
    assert [b.value for b in response.facets["decade"]] == ["1530"]  # ties: value ascending
    browse = small_window.search(SearchParams(facet=["source"], facet_size=1))
    assert [(b.value, b.count) for b in browse.facets["source"]] == [("loc", 7)]


def test_facets_respect_filters(service: SearchService) -> None:
    response = service.search(SearchParams(q="sea monsters", year_to=1700, facet=["subject"]))
    # passing the filter: c:01 (1539), c:08 (1600), c:02 (1700-1710)
    assert response.total == 3
    assert facet(response, "subject") == {"Nautical charts": 2, "Sea monsters": 2}


def test_paging_walks_the_window_and_refuses_past_it(small_window: SearchService) -> None:
    first = small_window.search(SearchParams(q="sea monsters", mode="semantic", size=2, page=1))
    second = small_window.search(SearchParams(q="sea monsters", mode="semantic", size=2, page=2))
    assert ids(first) == ["c:01", "c:02"] and ids(second) == ["c:05"]  # window = 3
    with pytest.raises(PageOutOfWindow) as raised:
        small_window.search(SearchParams(q="sea monsters", mode="semantic", size=2, page=3))
    assert status_of(raised.value) == 400 and raised.value.parameter == "page"


def test_browse_is_exact_and_pages_past_the_window(small_window: SearchService) -> None:
    pages = [
        small_window.search(SearchParams(size=4, page=p, sort="year", facet=["source"]))
        for p in (1, 2, 3, 4)
    ]
    assert [ids(p) for p in pages] == [
        ["c:01", "c:08", "c:02", "c:10"],
        ["c:03", "c:05", "c:06", "c:07"],  # 1850 tie: id
        ["c:04", "c:09"],  # undated last
        [],
    ]
    assert all(p.total == 10 for p in pages)
    assert facet(pages[0], "source") == {"loc": 7, "bnf": 3}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-year", ["c:04", "c:06", "c:07", "c:05", "c:03", "c:10", "c:02", "c:08", "c:01", "c:09"]),
        ("title", ["c:02", "c:10", "c:09", "c:08", "c:04", "c:03", "c:05", "c:01", "c:06", "c:07"]),
    ],
)
def test_browse_sorts(service: SearchService, sort: str, expected: list[str]) -> None:
    response = service.search(SearchParams(size=100, sort=sort))  # type: ignore[arg-type]
    assert ids(response) == expected
