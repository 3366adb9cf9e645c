"""Conformance: honest result sets. A text query's semantic matches count only above the
similarity bar (the model's calibration, the setting, or the request), in totals, facets and the
decade histogram alike; an example image ranks every map and says "best matches"."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.backends.base import SearchBackend
from indexer.calibration import CALIBRATION_FILE, Calibration
from indexer.settings import Settings
from tests.support.corpus import MODEL_ID, FakeEmbedder
from webapi.search.params import SearchParams, SearchResponse
from webapi.search.service import SearchService

BAR = 0.55  # between c:05 (.6) and c:06/c:07 (.5) for "sea monsters"


def ids(response: SearchResponse) -> list[str]:
    return [hit.id for hit in response.hits]


def facet(response: SearchResponse, name: str) -> dict[str, int]:
    return {bucket.value: bucket.count for bucket in response.facets[name]}


@pytest.fixture
def barred(settings: Settings, backend: SearchBackend, embedder: FakeEmbedder) -> SearchService:
    """The service with MAPSEARCH_MIN_SIMILARITY = BAR."""
    return SearchService(settings.model_copy(update={"min_similarity": BAR}), backend, embedder)


def test_semantic_matches_count_only_above_the_bar(barred: SearchService) -> None:
    semantic = barred.search(
        SearchParams(q="sea monsters", mode="semantic", facet=["decade", "subject"])
    )
    # cos: c:01 1.0, c:02 .8, c:05 .6 pass; c:06/c:07 .5 and the zeros do not
    assert ids(semantic) == ["c:01", "c:02", "c:05"]
    assert (semantic.total, semantic.total_kind, semantic.reachable) == (3, "exact", 3)
    assert facet(semantic, "decade") == {"1530": 1, "1700": 1, "1800": 1}
    assert facet(semantic, "subject") == {"Nautical charts": 3, "Sea monsters": 1}
    assert semantic.query["min_similarity"] == BAR
    assert semantic.query["min_similarity_source"] == "settings"
    hybrid = barred.search(SearchParams(q="sea monsters", facet=["decade"]))
    # keyword matches {c:01, c:08} ∪ semantic matches {c:01, c:02, c:05}
    assert sorted(ids(hybrid)) == ["c:01", "c:02", "c:05", "c:08"] and hybrid.total == 4
    assert facet(hybrid, "decade") == {"1530": 1, "1600": 1, "1700": 1, "1800": 1}


def test_the_request_overrides_the_bar(barred: SearchService) -> None:
    strict = barred.search(SearchParams(q="sea monsters", mode="semantic", min_similarity=0.9))
    assert ids(strict) == ["c:01"] and strict.total == 1
    assert strict.query["min_similarity_source"] == "request"
    everything = barred.search(
        SearchParams(q="sea monsters", mode="semantic", min_similarity=-1, size=100)
    )
    # -1 admits every map with a vector (c:08 has none): a ranking, so best matches
    assert everything.total == 9 and everything.total_kind == "best_matches"


def test_the_bar_stored_with_the_model_is_used(
    settings: Settings, backend: SearchBackend, embedder: FakeEmbedder, tmp_path: Path
) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / CALIBRATION_FILE).write_text(Calibration(MODEL_ID, BAR).to_json())
    service = SearchService(
        settings.model_copy(update={"model": str(model_dir)}), backend, embedder
    )
    response = service.search(SearchParams(q="sea monsters", mode="semantic"))
    assert ids(response) == ["c:01", "c:02", "c:05"]
    assert response.query["min_similarity_source"] == "model"
    other = tmp_path / "other"
    other.mkdir()
    (other / CALIBRATION_FILE).write_text(Calibration("another-model/1", BAR).to_json())
    unrelated = SearchService(settings.model_copy(update={"model": str(other)}), backend, embedder)
    assert unrelated.search(SearchParams(q="sea monsters", mode="semantic")).total == 9


def test_without_any_bar_a_text_query_says_best_matches(service: SearchService) -> None:
    response = service.search(SearchParams(q="sea monsters", mode="semantic"))
    assert response.total == 9 and response.total_kind == "best_matches"
    assert response.query["min_similarity"] is None


def test_an_example_image_ranks_everything_as_best_matches(barred: SearchService) -> None:
    by_image = barred.search(SearchParams(image_id="c:03", size=100, facet=["decade"]))
    assert by_image.total == 9 and by_image.total_kind == "best_matches"
    assert ids(by_image)[:3] == ["c:03", "c:09", "c:04"]
    similar = barred.similar("c:03", size=100)
    assert similar.total == 8 and similar.total_kind == "best_matches"
    assert "c:03" not in ids(similar) and similar.reachable == 8


def test_keyword_and_browse_totals_are_exact(barred: SearchService) -> None:
    keyword = barred.search(SearchParams(q="sea monsters", mode="keyword"))
    assert (keyword.total, keyword.total_kind, keyword.reachable) == (2, "exact", 2)
    browse = barred.search(SearchParams(size=3))
    assert (browse.total, browse.total_kind, browse.reachable) == (10, "exact", 10)


def test_a_nonsense_query_is_an_honest_empty_set(barred: SearchService) -> None:
    response = barred.search(SearchParams(q="zzzqqq", facet=["decade", "subject"]))
    assert response.hits == [] and response.total == 0 and response.total_kind == "exact"
    assert response.facets.get("decade", []) == [] and response.facets.get("subject", []) == []


def test_totals_say_when_they_exceed_the_window(
    settings: Settings, backend: SearchBackend, embedder: FakeEmbedder
) -> None:
    small = SearchService(
        settings.model_copy(update={"min_similarity": 0.0, "num_candidates": 3}), backend, embedder
    )
    response = small.search(SearchParams(q="sea monsters", size=2))
    # keyword {c:01, c:08} ∪ semantic top 3 above 0: total 4, of which paging reaches 3
    assert response.total == 4 and response.reachable == 3 and response.total_kind == "exact"
