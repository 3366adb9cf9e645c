"""Conformance: years typed into the words (a year, a decade, a range) are a suggested year
filter, not words every match must contain; both lists search the remaining words."""

from __future__ import annotations

import pytest

from webapi.search.params import SearchParams, SearchResponse, YearSuggestion
from webapi.search.service import SearchService


def ids(response: SearchResponse) -> list[str]:
    return sorted(hit.id for hit in response.hits)


def test_a_year_is_not_a_required_word(service: SearchService) -> None:
    keyword = service.search(SearchParams(q="atlas 1850", mode="keyword"))
    # no map's text holds "1850"; the atlas sheets are dated 1850
    assert ids(keyword) == ["c:06", "c:07"] and keyword.total == 2
    assert keyword.year_suggestion == YearSuggestion(year_from=1850, year_to=1850, text="1850")
    assert keyword.query["words"] == "atlas"
    hybrid = service.search(SearchParams(q="atlas 1850", mode="semantic", size=2))
    assert ids(hybrid) == ["c:06", "c:07"]  # the text vector is the one of "atlas"


def test_the_suggested_filter_narrows_and_is_then_not_offered(service: SearchService) -> None:
    filtered = service.search(SearchParams(q="paris 1790", mode="keyword"))
    assert ids(filtered) == ["c:03", "c:04", "c:10"]
    suggestion = filtered.year_suggestion
    assert suggestion is not None
    narrowed = service.search(
        SearchParams(
            q="paris 1790",
            mode="keyword",
            year_from=suggestion.year_from,
            year_to=suggestion.year_to,
        )
    )
    assert ids(narrowed) == ["c:03"] and narrowed.year_suggestion is None


@pytest.mark.parametrize(
    ("q", "years", "typed"),
    [
        ("paris 1790s", (1790, 1799), "1790s"),
        ("paris 1700-1800", (1700, 1800), "1700-1800"),
        ("paris 1800–1700", (1700, 1800), "1800–1700"),
        ("paris 1800s", (1800, 1899), "1800s"),
    ],
)
def test_decades_and_ranges(
    service: SearchService, q: str, years: tuple[int, int], typed: str
) -> None:
    response = service.search(SearchParams(q=q, mode="keyword"))
    assert ids(response) == ["c:03", "c:04", "c:10"]
    assert response.year_suggestion == YearSuggestion(
        year_from=years[0], year_to=years[1], text=typed
    )


def test_a_year_alone_stays_the_query(service: SearchService) -> None:
    response = service.search(SearchParams(q="1850", mode="keyword"))
    assert response.total == 0 and response.query["words"] == "1850"
    assert response.year_suggestion is not None and response.year_suggestion.year_from == 1850
