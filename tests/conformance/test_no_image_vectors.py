"""Conformance: honest image states. A collection without image vectors says so when a search
asks for ranking by what the maps look like (semantic or hybrid), instead of an unexplained
"0 maps"; "only maps with an image" keeps the maps a reader can see an image of."""

from __future__ import annotations

from indexer.backends.base import SearchBackend
from indexer.records import ImageRef, IndexDocument, MapRecord
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


def test_only_maps_with_an_image_means_an_image_a_reader_can_see(
    settings: Settings, empty_backend: SearchBackend
) -> None:
    records = [
        MapRecord(
            id="i:1",
            source="i",
            title="Service",
            image=ImageRef.remote(iiif_service="https://iiif.example.org/iiif/1"),
        ),
        MapRecord(id="i:2", source="i", title="Thumbnail", thumbnail_url="https://x.org/t.jpg"),
        MapRecord(
            id="i:3",
            source="i",
            title="Manifest only",
            image=ImageRef.remote(manifest_url="https://x.org/manifest.json"),
        ),
        MapRecord(id="i:4", source="i", title="Catalogue only"),
    ]
    assert empty_backend.write([IndexDocument(record=r) for r in records]).written == 4
    empty_backend.refresh()
    service = SearchService(settings, empty_backend, FakeEmbedder())
    with_image = service.search(SearchParams(has_image=True, facet=["has_image"]))
    assert sorted(h.id for h in with_image.hits) == ["i:1", "i:2"]
    without = service.search(SearchParams(has_image=False))
    assert sorted(h.id for h in without.hits) == ["i:3", "i:4"]
    counts = service.search(SearchParams(facet=["has_image"])).facets["has_image"]
    assert {b.value: b.count for b in counts} == {"true": 2, "false": 2}
    assert all(h.thumbnail_url for h in with_image.hits)  # each shows a picture
