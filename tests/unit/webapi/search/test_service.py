"""Search-service rules that do not depend on the backend: image sources, the lazy model, errors."""

from __future__ import annotations

import pytest
from PIL import Image

from indexer.backends.embedded import EmbeddedBackend
from indexer.records import ImageRef
from indexer.settings import Settings
from tests.support.corpus import FakeEmbedder, corpus, solid_image
from webapi.errors import status_of
from webapi.search.errors import EmbedderUnavailable, InvalidSearch, NotFound
from webapi.search.params import SearchParams
from webapi.search.service import SearchService, thumbnail_of


@pytest.fixture
def backend(settings: Settings) -> EmbeddedBackend:
    backend = EmbeddedBackend.open(settings)
    backend.write(corpus())
    return backend


def test_image_url_and_token_go_through_the_resolver(
    settings: Settings, backend: EmbeddedBackend
) -> None:
    asked: list[tuple[str, str]] = []

    def resolve(kind: str, value: str) -> Image.Image:
        asked.append((kind, value))
        return solid_image((255, 0, 0))

    service = SearchService(settings, backend, FakeEmbedder(), resolve)  # type: ignore[arg-type]
    by_url = service.search(SearchParams(image_url="https://example.org/red.png", size=2))
    by_token = service.search(SearchParams(image_token="abc123", size=2))
    assert [h.id for h in by_url.hits] == [h.id for h in by_token.hits] == ["c:04", "c:05"]
    assert asked == [("url", "https://example.org/red.png"), ("token", "abc123")]


def test_one_example_image_at_a_time(settings: Settings, backend: EmbeddedBackend) -> None:
    service = SearchService(settings, backend, FakeEmbedder())
    with pytest.raises(InvalidSearch, match="one example image"):
        service.search(SearchParams(image_id="c:01", image_url="https://example.org/x.png"))
    with pytest.raises(InvalidSearch):
        service.search(SearchParams(image_id="c:01"), image=solid_image((255, 0, 0)))


def test_no_model_configured_is_a_503_only_when_a_model_is_needed(
    settings: Settings, backend: EmbeddedBackend
) -> None:
    service = SearchService(settings, backend, None)
    assert service.search(SearchParams(q="paris", mode="keyword")).total == 3
    assert (
        service.search(SearchParams(image_id="c:03", size=1)).hits[0].id == "c:03"
    )  # stored vector: no model
    with pytest.raises(EmbedderUnavailable) as raised:
        service.search(SearchParams(q="paris"))
    assert status_of(raised.value) == 503


def test_the_model_is_used_only_when_a_query_needs_a_vector(
    settings: Settings, backend: EmbeddedBackend
) -> None:
    model = FakeEmbedder()
    service = SearchService(settings, backend, model)
    service.search(SearchParams(q="paris", mode="keyword"))
    assert model.calls == 0
    service.search(SearchParams(q="paris"))
    service.search(SearchParams(q="sea"))
    assert model.calls == 2


def test_unknown_item_is_not_found(settings: Settings, backend: EmbeddedBackend) -> None:
    service = SearchService(settings, backend, FakeEmbedder())
    with pytest.raises(NotFound) as raised:
        service.get_item("c:nope")
    assert status_of(raised.value) == 404
    with pytest.raises(NotFound):
        service.similar("c:nope")


def test_response_echoes_the_query_and_builds_thumbnails(
    settings: Settings, backend: EmbeddedBackend
) -> None:
    service = SearchService(settings, backend, FakeEmbedder())
    response = service.search(SearchParams(q="paris", mix=0.2, facet=["place"]))
    assert (
        response.query["model"] == "fake-4d"
        and response.query["mode"] == "hybrid"
        and response.query["window"] == 200
    )
    assert response.hits[0].thumbnail_url == "https://example.org/c:03.jpg"
    record = corpus()[0].record.model_copy(
        update={"image": ImageRef(iiif_service="https://iiif.example.org/x/")}
    )
    assert thumbnail_of(record) == "https://iiif.example.org/x/full/!400,400/0/default.jpg"
    assert service.search(SearchParams()).query["mode"] == "browse"
