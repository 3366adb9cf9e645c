"""Conformance: words read from the map image are searchable on every backend, in their own
field weighted below the title, within one edit for words of 5+ letters (catalogue text stays
exact), and hits carry the matched words with their boxes and where the match was found."""

from __future__ import annotations

import pytest

from indexer.backends.base import SearchBackend
from tests.support.corpus import FakeEmbedder, corpus
from tests.support.map_text_corpus import maps_with_words
from webapi.search.params import SearchParams
from webapi.search.service import SearchService


@pytest.fixture
def map_service(settings, empty_backend: SearchBackend) -> SearchService:
    report = empty_backend.write([*corpus(), *maps_with_words()])
    assert report.failed == 0, report
    empty_backend.refresh()
    return SearchService(settings, empty_backend, FakeEmbedder())


def _ids(response) -> list[str]:
    return sorted(hit.id for hit in response.hits)


def test_words_on_the_map_are_found_and_the_title_weighs_more(map_service: SearchService):
    response = map_service.search(SearchParams(q="chesapeake", mode="keyword"))
    assert _ids(response) == ["t:1", "t:2", "t:3"]
    order = [hit.id for hit in response.hits]
    assert order.index("t:2") < order.index("t:1")  # the title beats a word on the map
    found = {hit.id: hit.found_in for hit in response.hits}
    assert found == {"t:1": "map", "t:2": "catalogue", "t:3": "both"}


def test_hits_carry_the_matched_words_with_their_boxes(map_service: SearchService):
    response = map_service.search(SearchParams(q="chesapeake", mode="keyword"))
    words = {hit.id: [(w.text, w.box, w.score) for w in hit.map_text] for hit in response.hits}
    assert words["t:1"] == [("Chesapeake", [100, 40, 100, 24], 0.95)]
    assert words["t:2"] == []
    assert words["t:3"] == [("CHESAPEAKE", [700, 40, 100, 24], 0.95)]


def test_one_edit_finds_words_on_the_map_but_not_in_the_catalogue(map_service: SearchService):
    typo = map_service.search(SearchParams(q="Chesapeak", mode="keyword"))
    assert _ids(typo) == ["t:1", "t:3"]  # t:2 has it only in its title: catalogue text is exact
    assert sorted(w.text for hit in typo.hits for w in hit.map_text) == ["CHESAPEAKE", "Chesapeake"]
    swapped = map_service.search(SearchParams(q="Elmotuh", mode="keyword"))
    assert _ids(swapped) == ["t:1", "t:5"]
    assert _ids(map_service.search(SearchParams(q="Chxsapeakx", mode="keyword"))) == []


def test_short_words_on_the_map_match_exactly(map_service: SearchService):
    assert _ids(map_service.search(SearchParams(q="bath", mode="keyword"))) == ["t:4"]
    assert _ids(map_service.search(SearchParams(q="bash", mode="keyword"))) == []


def test_every_term_must_match_somewhere_catalogue_or_map(map_service: SearchService):
    response = map_service.search(SearchParams(q="bay elmouth", mode="keyword"))
    assert _ids(response) == ["t:1"]  # "bay" in the title, "Elmouth" on the map
    assert response.hits[0].found_in == "both"


def test_at_most_five_matched_words_most_confident_first(map_service: SearchService):
    response = map_service.search(SearchParams(q="elmouth", mode="keyword"))
    town = next(hit for hit in response.hits if hit.id == "t:5")
    assert [w.score for w in town.map_text] == [0.77, 0.76, 0.75, 0.74, 0.73]


def test_hybrid_search_mixes_map_words_with_the_image_list(map_service: SearchService):
    response = map_service.search(SearchParams(q="sea", mode="hybrid", size=30))
    by_id = {hit.id: hit for hit in response.hits}
    assert by_id["t:1"].found_in == "map" and [w.text for w in by_id["t:1"].map_text] == ["Sea"]
    assert by_id["c:01"].found_in == "catalogue" and by_id["c:01"].map_text == []
    assert by_id["t:2"].found_in is None and by_id["t:2"].map_text == []  # the image list only
