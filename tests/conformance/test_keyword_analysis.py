"""Conformance: one keyword semantics on every backend (``indexer.analysis``): plural and
singular, accents and case match alike, stopwords are dropped, and user syntax is just words."""

from __future__ import annotations

import pytest

from webapi.search.params import SearchParams, SearchResponse
from webapi.search.service import SearchService


def ids(response: SearchResponse) -> list[str]:
    return sorted(hit.id for hit in response.hits)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # plural and singular: "monsters" in c:01's title and c:08's subject
        ("sea monster", ["c:01", "c:08"]),
        ("sea monsters", ["c:01", "c:08"]),
        ("monster", ["c:01", "c:08"]),
        ("charts", ["c:01", "c:02", "c:05"]),  # "Chart", "chart", "Nautical charts"
        ("chart", ["c:01", "c:02", "c:05"]),
        ("plan", ["c:03", "c:04", "c:09"]),  # "Plan of ...", subject "City plans"
        ("cities", ["c:03", "c:04", "c:09"]),  # "city" in a title or the subject "City plans"
        # accents and case fold both ways
        ("academie", ["c:03"]),
        ("ACADÉMIE", ["c:03"]),
        ("Dresse", ["c:03"]),
        ("dressé royale", ["c:03"]),
        ("NORWAY", ["c:01", "c:02"]),
        ("norwegian", []),  # no stemming beyond plurals
        # stopwords dropped, syntax not interpreted
        ("the maps of sea monsters", ["c:01", "c:08"]),
        ('"sea" AND monsters*', ["c:01", "c:08"]),
        ("paris-street", ["c:04"]),
        ("harbour_gray", ["c:10"]),
    ],
)
def test_keyword_matches_are_the_same_on_every_backend(
    service: SearchService, q: str, expected: list[str]
) -> None:
    response = service.search(SearchParams(q=q, mode="keyword", size=100))
    assert ids(response) == expected and response.total == len(expected)


def test_keyword_order_is_the_same_on_every_backend(service: SearchService) -> None:
    response = service.search(SearchParams(q="norway", mode="keyword"))
    assert [hit.id for hit in response.hits] == ["c:02", "c:01"]  # title beats places
    paris = service.search(SearchParams(q="paris", mode="keyword"))
    assert sorted(h.id for h in paris.hits[:2]) == ["c:03", "c:04"] and paris.hits[2].id == "c:10"
