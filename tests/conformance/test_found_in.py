"""Conformance: "where a match was found" (``found_in``: catalogue, map, both) as a facet and a
filter, identical on every backend. The facet counts keyword matches only, by where the words
of q were found; the filter keeps keyword matches found there (a map only the semantic list
found passes no ``found_in`` filter), and needs q in keyword or hybrid mode."""

from __future__ import annotations

from collections import Counter

import pytest

from indexer.backends.base import SearchBackend
from tests.support.corpus import FakeEmbedder, corpus
from tests.support.map_text_corpus import maps_with_words
from webapi.search.errors import InvalidSearch
from webapi.search.params import SearchParams
from webapi.search.service import SearchService


@pytest.fixture
def map_service(settings, empty_backend: SearchBackend) -> SearchService:
    report = empty_backend.write([*corpus(), *maps_with_words()])
    assert report.failed == 0, report
    empty_backend.refresh()
    return SearchService(settings, empty_backend, FakeEmbedder())


def _search(service: SearchService, **params) -> object:
    return service.search(SearchParams(facet=["found_in"], size=100, **params))


def _buckets(response) -> list[tuple[str, int]]:
    return [(bucket.value, bucket.count) for bucket in response.facets["found_in"]]


def _ids(response) -> list[str]:
    return sorted(hit.id for hit in response.hits)


def test_the_facet_counts_keyword_matches_by_where_the_words_were_found(map_service):
    response = _search(map_service, q="chesapeake", mode="keyword")
    assert _buckets(response) == [("both", 1), ("catalogue", 1), ("map", 1)]
    # a term in the title and another on the map: found in both
    assert _buckets(_search(map_service, q="bay elmouth", mode="keyword")) == [("both", 1)]
    # one edit finds map words, never catalogue text: t:3's subject "Chesapeake" does not count
    assert _buckets(_search(map_service, q="Chesapeak", mode="keyword")) == [("map", 2)]


@pytest.mark.parametrize("q", ["chesapeake", "sea", "elmouth", "chart", "bay elmouth", "bath"])
def test_the_facet_agrees_with_every_hit_s_found_in(map_service, q: str):
    response = _search(map_service, q=q, mode="keyword")
    assert response.total == len(response.hits) > 0
    counted = Counter(hit.found_in for hit in response.hits)
    assert None not in counted  # every keyword match was found somewhere
    assert dict(_buckets(response)) == dict(counted)


def test_in_hybrid_search_the_facet_leaves_out_maps_only_the_image_list_found(map_service):
    response = _search(map_service, q="sea", mode="hybrid")
    semantic_only = [hit for hit in response.hits if hit.found_in is None]
    assert semantic_only, "the fake space puts maps in the image list without the word"
    counted = Counter(hit.found_in for hit in response.hits if hit.found_in is not None)
    assert dict(_buckets(response)) == dict(counted)
    assert sum(count for _, count in _buckets(response)) == response.total - len(semantic_only)
    assert ("map", 1) in _buckets(response)  # t:1 reads "Sea" on the map


def test_the_filter_keeps_keyword_matches_found_there(map_service):
    on_map = _search(map_service, q="chesapeake", mode="keyword", found_in=["map"])
    assert _ids(on_map) == ["t:1"] and on_map.total == 1
    assert _buckets(on_map) == [("map", 1)]  # the facet counts within the filtered set
    anywhere_on_map = _search(map_service, q="chesapeake", mode="keyword", found_in=["map", "both"])
    assert _ids(anywhere_on_map) == ["t:1", "t:3"]
    assert [hit.found_in for hit in anywhere_on_map.hits if hit.id == "t:3"] == ["both"]
    in_record = _search(map_service, q="chesapeake", mode="keyword", found_in=["catalogue"])
    assert _ids(in_record) == ["t:2"]
    every = _search(
        map_service, q="chesapeake", mode="keyword", found_in=["catalogue", "map", "both"]
    )
    assert _ids(every) == ["t:1", "t:2", "t:3"]
    typo = _search(map_service, q="Chesapeak", mode="keyword", found_in=["catalogue", "both"])
    assert typo.total == 0 and typo.hits == []


def test_the_filter_drops_maps_only_the_image_list_found(map_service):
    unfiltered = _search(map_service, q="sea", mode="hybrid")
    assert any(hit.found_in is None for hit in unfiltered.hits)
    on_map = _search(map_service, q="sea", mode="hybrid", found_in=["map"])
    assert _ids(on_map) == ["t:1"] and on_map.total == 1
    in_record = _search(map_service, q="sea", mode="hybrid", found_in=["catalogue"])
    expected = sorted(hit.id for hit in unfiltered.hits if hit.found_in == "catalogue")
    assert _ids(in_record) == expected and in_record.total == len(expected) > 0
    assert {hit.found_in for hit in in_record.hits} == {"catalogue"}


def test_the_filter_combines_with_the_other_filters(map_service):
    response = _search(
        map_service,
        q="chesapeake",
        mode="keyword",
        found_in=["map", "both"],
        subject=["Chesapeake"],
    )
    assert _ids(response) == ["t:3"]


def test_without_words_there_is_nothing_to_count_and_nothing_to_filter_by(map_service):
    browse = _search(map_service)
    assert browse.total == 15 and _buckets(browse) == []
    assert _buckets(_search(map_service, q="sea", mode="semantic")) == []
    for params in ({}, {"q": "sea", "mode": "semantic"}, {"image_id": "c:01"}):
        with pytest.raises(InvalidSearch) as refused:
            _search(map_service, found_in=["map"], **params)
        assert refused.value.parameter == "found_in"
