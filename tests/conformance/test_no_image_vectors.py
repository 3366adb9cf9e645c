"""Conformance: a collection without image vectors says so when a search asks for ranking by
what the maps look like (semantic or hybrid), instead of an unexplained "0 maps"."""

from __future__ import annotations

from indexer.backends.base import SearchBackend
from indexer.records import IndexDocument
from indexer.settings import Settings
from tests.support.corpus import FakeEmbedder, corpus
from webapi.search.params import SearchParams
from webapi.search.service import SearchService


def test_semantic_and_hybrid_say_the_collection_has_no_image_vectors(
    settings: Settings, empty_backend: SearchBackend
) -> None:
    docs = [IndexDocument(record=doc.record) for doc in corpus()]  # metadata only
    assert empty_backend.write(docs).written == 10
    empty_backend.refresh()
    service = SearchService(settings, empty_backend, FakeEmbedder())
    semantic = service.search(SearchParams(q="sea monsters", mode="semantic"))
    assert semantic.total == 0 and semantic.no_image_vectors is not None
    assert "semantic search finds nothing" in semantic.no_image_vectors
    hybrid = service.search(SearchParams(q="sea monsters"))
    assert sorted(h.id for h in hybrid.hits) == ["c:01", "c:08"]
    assert hybrid.no_image_vectors is not None and "words only" in hybrid.no_image_vectors
    keyword = service.search(SearchParams(q="sea monsters", mode="keyword"))
    assert keyword.no_image_vectors is None


def test_a_collection_with_vectors_says_nothing(service: SearchService) -> None:
    assert service.search(SearchParams(q="sea monsters")).no_image_vectors is None
