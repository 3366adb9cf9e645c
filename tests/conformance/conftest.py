"""The conformance suite's backends. Adding a backend = one generator function below that yields
a fresh, empty backend for the given settings (and cleans up after the yield), plus its name in
``BACKENDS``. Backends that need a service must go through
``tests.support.services.require_service``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from indexer.backends.base import SearchBackend
from indexer.settings import Settings
from tests.support.corpus import FakeEmbedder, corpus
from webapi.search.service import SearchService


def embedded_backend(settings: Settings) -> Iterator[SearchBackend]:
    """A fresh embedded index in the test's data dir."""
    from indexer.backends.embedded import EmbeddedBackend

    backend = EmbeddedBackend.open(settings)
    yield backend
    backend.close()


def embedded_indexed_backend(settings: Settings) -> Iterator[SearchBackend]:
    """The embedded backend with its vector index used whenever the planner may: every semantic
    list with at least one candidate goes through the index (built inline), so the suite checks
    that it answers as the exact path does."""
    from indexer.backends.embedded import EmbeddedBackend
    from indexer.backends.vector_index import PlannerLimits

    backend = EmbeddedBackend(
        settings.embedded_path,
        planner=PlannerLimits(min_rows=1, min_selectivity=0.0, max_depth=10**6),
        index_in_background=False,
    )
    yield backend
    backend.close()


def embedded_quantised_backend(settings: Settings) -> Iterator[SearchBackend]:
    """The embedded backend with every semantic list served by the scan of the index's 8-bit codes
    (rescored in float32 until provably exact), so the suite checks that it answers as the exact
    path does."""
    from indexer.backends.embedded import EmbeddedBackend
    from indexer.backends.vector_index import PlannerLimits

    backend = EmbeddedBackend(
        settings.embedded_path,
        planner=PlannerLimits(min_rows=1, min_selectivity=2.0, max_depth=0, gather_fraction=0.0),
        index_in_background=False,
    )
    yield backend
    backend.close()


def elasticsearch_backend(settings: Settings) -> Iterator[SearchBackend]:
    """A fresh index prefix on the test cluster (MAPSEARCH_TEST_ES_URL), removed afterwards."""
    from indexer.backends.elasticsearch import ElasticsearchBackend
    from tests.support.es import es_client, fresh_prefix, remove_prefix

    client = es_client()
    prefix = fresh_prefix("conformance")
    backend = ElasticsearchBackend(client, prefix)
    yield backend
    remove_prefix(client, prefix)


BACKENDS: dict[str, Callable[[Settings], Iterator[SearchBackend]]] = {
    "embedded": embedded_backend,
    "embedded-indexed": embedded_indexed_backend,
    "embedded-quantised": embedded_quantised_backend,
    "elasticsearch": elasticsearch_backend,
}


@pytest.fixture(params=sorted(BACKENDS))
def empty_backend(request: pytest.FixtureRequest, settings: Settings) -> Iterator[SearchBackend]:
    """A fresh, empty backend of each kind."""
    yield from BACKENDS[request.param](settings)


@pytest.fixture
def backend(empty_backend: SearchBackend) -> SearchBackend:
    """A backend holding the ten-map corpus."""
    report = empty_backend.write(corpus())
    assert report.written == 10 and report.failed == 0, report
    empty_backend.refresh()
    return empty_backend


@pytest.fixture
def embedder() -> FakeEmbedder:
    """The deterministic embedder of the corpus space."""
    return FakeEmbedder()


@pytest.fixture
def service(settings: Settings, backend: SearchBackend, embedder: FakeEmbedder) -> SearchService:
    """The search service over the corpus, default settings (window 200)."""
    return SearchService(settings, backend, embedder)


@pytest.fixture
def small_window(
    settings: Settings, backend: SearchBackend, embedder: FakeEmbedder
) -> SearchService:
    """The search service with a candidate window of 3."""
    return SearchService(settings.model_copy(update={"num_candidates": 3}), backend, embedder)
