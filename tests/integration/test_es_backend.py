"""The Elasticsearch backend against a real cluster: search primitives, versioned writes, bulk
error reporting, reads by id."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from elasticsearch import Elasticsearch

import es_mappings
from indexer.backends.base import BackendQuery, Filters, ModelMismatchError
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.records import IndexDocument, MapRecord
from tests.support.es import (
    MODEL_ID,
    fresh_prefix,
    make_doc,
    remove_prefix,
    unit,
)

pytestmark = pytest.mark.elasticsearch

DOCS = [
    make_doc(
        "t:1",
        "Sea monsters of the northern ocean",
        [1, 0, 0],
        year_start=1570,
        subjects=["Sea monsters"],
        places=["Atlantic Ocean"],
        collections=["Rare maps"],
    ),
    make_doc(
        "t:2",
        "Chart of the Atlantic coast",
        [0.9, 0.1, 0],
        year_start=1780,
        subjects=["Nautical charts"],
        places=["Atlantic Ocean"],
        collections=["Rare maps"],
    ),
    make_doc(
        "t:3",
        "City plan of Boston",
        [0, 1, 0],
        year_start=1895,
        subjects=["Cities"],
        places=["Boston"],
        collections=["Cities"],
        extent={"west": -71.2, "south": 42.2, "east": -70.9, "north": 42.5},
    ),
    make_doc(
        "t:4",
        "Pacific islands",
        [0, 0, 1],
        year_start=1850,
        year_end=1860,
        subjects=["Islands"],
        places=["Fiji"],
        extent={"west": 170, "south": -20, "east": -170, "north": -10},
    ),
    make_doc(
        "t:5",
        "Boston harbor",
        None,
        year_start=1785,
        subjects=["Sea monsters", "Harbors"],
        places=["Boston"],
    ),
]


@pytest.fixture(scope="module")
def backend(client: Elasticsearch) -> Iterator[ElasticsearchBackend]:
    prefix = fresh_prefix("backend")
    backend = ElasticsearchBackend(client, prefix)
    report = backend.write(DOCS)
    assert report.written == len(DOCS) and report.failed == 0
    backend.refresh()
    yield backend
    remove_prefix(client, prefix)


def test_keyword_list_ranks_title_over_subjects_and_needs_every_token(
    backend: ElasticsearchBackend,
) -> None:
    result = backend.search(BackendQuery(text="maps with sea monsters"))
    assert [h.id for h in result.keyword] == [
        "t:1",
        "t:5",
    ]  # t:1 in the title, t:5 only in its subjects
    assert result.total == 2
    assert not backend.search(BackendQuery(text="sea boston fiji")).keyword


def test_semantic_list_scores_are_cosines_ranked_with_ties_by_id(
    backend: ElasticsearchBackend,
) -> None:
    query_vector = unit([1, 0, 0])
    result = backend.search(BackendQuery(vector=query_vector, num_candidates=3))
    assert [h.id for h in result.semantic] == ["t:1", "t:2", "t:3"]
    expected = float(unit([0.9, 0.1, 0]) @ query_vector)
    assert result.semantic[0].score == pytest.approx(1.0, abs=1e-4)
    assert result.semantic[1].score == pytest.approx(expected, abs=1e-4)
    assert result.semantic[2].score == pytest.approx(0.0, abs=1e-4)
    assert result.total == 3  # the k nearest only
    # t:3 and t:4 are both orthogonal to the query: the tie breaks by id
    tied = backend.search(BackendQuery(vector=query_vector, num_candidates=4)).semantic
    assert [h.id for h in tied[2:]] == ["t:3", "t:4"]


def test_min_similarity_is_a_cosine(backend: ElasticsearchBackend) -> None:
    result = backend.search(BackendQuery(vector=unit([1, 0, 0]), min_similarity=0.5))
    assert [h.id for h in result.semantic] == ["t:1", "t:2"]


def test_hybrid_total_and_facets_cover_the_union(backend: ElasticsearchBackend) -> None:
    query = BackendQuery(
        text="boston",
        vector=unit([1, 0, 0]),
        num_candidates=1,
        facets=("place", "decade", "has_image"),
    )
    result = backend.search(query)
    assert [h.id for h in result.keyword] == ["t:5"]  # the keyword window is num_candidates too
    assert [h.id for h in result.semantic] == ["t:1"]
    assert result.total == 3  # every keyword match (t:3, t:5) ∪ the semantic top 1 (t:1)
    assert result.facets["place"] == [("Boston", 2), ("Atlantic Ocean", 1)]
    assert result.facets["decade"] == [("1570", 1), ("1780", 1), ("1890", 1)]
    assert result.facets["has_image"] == [("false", 3)]  # no test record points at an image


def test_filters_apply_to_both_lists(backend: ElasticsearchBackend) -> None:
    filters = Filters(year_from=1700, year_to=1800)
    result = backend.search(
        BackendQuery(text="sea monsters", vector=unit([1, 0, 0]), filters=filters)
    )
    assert [h.id for h in result.keyword] == ["t:5"]
    assert [h.id for h in result.semantic] == ["t:2"]
    assert result.total == 2
    places = backend.search(
        BackendQuery(vector=unit([1, 0, 0]), filters=Filters(terms={"place": ("Boston", "Fiji")}))
    )
    assert sorted(h.id for h in places.semantic) == ["t:3", "t:4"]


def test_bbox_filter_handles_the_antimeridian(backend: ElasticsearchBackend) -> None:
    def ids(bbox: tuple[float, float, float, float]) -> list[str]:
        return [h.id for h in backend.search(BackendQuery(filters=Filters(bbox=bbox))).browse]

    assert ids((-72, 42, -70, 43)) == ["t:3"]
    assert ids((175, -15, 179, -12)) == ["t:4"]  # t:4 spans 170°E → 170°W
    assert ids((-175, -15, -172, -12)) == ["t:4"]
    assert ids((160, -15, 165, -12)) == []


def test_browse_is_exact_sorted_and_paged(backend: ElasticsearchBackend) -> None:
    page = backend.search(
        BackendQuery(browse_sort="year", browse_offset=1, browse_limit=2, facets=("collection",))
    )
    assert page.total == 5
    assert [h.id for h in page.browse] == ["t:2", "t:5"]
    assert page.facets["collection"] == [("Rare maps", 2), ("Cities", 1)]
    newest = backend.search(BackendQuery(browse_sort="-year", browse_limit=1))
    assert [h.id for h in newest.browse] == ["t:3"]
    by_title = backend.search(BackendQuery(browse_sort="title"))
    assert [h.title for h in by_title.browse][:2] == [
        "Boston harbor",
        "Chart of the Atlantic coast",
    ]


def test_fetch_round_trips_the_document(backend: ElasticsearchBackend) -> None:
    found = backend.fetch(["t:3", "missing"])
    assert list(found) == ["t:3"]
    doc = found["t:3"]
    assert doc.record == DOCS[2].record
    assert doc.model_id == MODEL_ID
    assert doc.vector is not None and np.allclose(doc.vector, DOCS[2].vector)
    vector = backend.get_vector("t:1")
    assert vector is not None and np.allclose(vector, DOCS[0].vector)
    assert backend.get_vector("t:5") is None


def test_info(backend: ElasticsearchBackend) -> None:
    info = backend.info()
    assert (info.documents, info.with_vectors, info.model_id, info.dims) == (5, 4, MODEL_ID, 8)
    latest = es_mappings.latest_version()  # writes create the newest mapping's index
    assert info.physical is not None and info.physical.startswith(
        f"{backend.prefix}-maps-v{latest}-"
    )
    assert info.mapping_version == latest


def test_versioned_writes_never_let_a_stale_revision_win(client: Elasticsearch) -> None:
    prefix = fresh_prefix("versions")
    backend = ElasticsearchBackend(client, prefix)
    try:
        assert backend.write([make_doc("v:1", "Revision five", revision=5)]).written == 1
        stale = backend.write([make_doc("v:1", "Revision three", revision=3)])
        assert (stale.written, stale.skipped_stale, stale.failed) == (0, 1, 0)
        same = backend.write(
            [make_doc("v:1", "Revision five again", revision=5)]
        )  # a retry is idempotent
        assert same.written == 1
        newer = backend.write([make_doc("v:1", "Revision six", revision=6)])
        assert newer.written == 1
        backend.refresh()
        assert backend.fetch(["v:1"])["v:1"].record.title == "Revision six"
    finally:
        remove_prefix(client, prefix)


def test_bulk_errors_are_counted_with_samples(client: Elasticsearch) -> None:
    prefix = fresh_prefix("errors")
    backend = ElasticsearchBackend(client, prefix)
    try:
        good = make_doc("e:1", "Fine", [1, 0])
        wrong_dims = IndexDocument(
            record=MapRecord(id="e:2", source="test"),
            vector=np.ones(3, np.float32) / np.sqrt(3),
            model_id=MODEL_ID,
        )
        # 3-d vector against an 8-d index: the model check refuses the batch before writing
        with pytest.raises(ModelMismatchError):
            backend.write([good, wrong_dims])
        no_model = IndexDocument(
            record=MapRecord(id="e:3", source="test"), vector=unit([1]), model_id=None
        )
        nan = IndexDocument(
            record=MapRecord(id="e:4", source="test"),
            vector=np.full(8, np.nan, np.float32),
            model_id=MODEL_ID,
        )
        # a year that overflows the integer field is refused by Elasticsearch itself, per document
        overflow = make_doc("e:5", "Bad year", year_start=2**40)
        report = backend.write([good, no_model, nan, overflow])
        assert report.written == 1
        assert report.failed == 3
        assert {e.split(":")[0] + ":" + e.split(":")[1] for e in report.errors} == {
            "e:3",
            "e:4",
            "e:5",
        }
        assert any("e:5" in e and "year_start" in e for e in report.errors)
    finally:
        remove_prefix(client, prefix)


def test_other_model_is_refused(backend: ElasticsearchBackend) -> None:
    other = IndexDocument(
        record=MapRecord(id="m:1", source="test"), vector=unit([1]), model_id="other"
    )
    with pytest.raises(ModelMismatchError):
        backend.write([other])
    with pytest.raises(ModelMismatchError):
        backend.search(BackendQuery(vector=np.ones(4, np.float32) / 2))


def test_delete(client: Elasticsearch) -> None:
    prefix = fresh_prefix("delete")
    backend = ElasticsearchBackend(client, prefix)
    try:
        backend.write([make_doc("d:1", "One"), make_doc("d:2", "Two")])
        assert backend.delete(["d:1", "d:9"]) == 1
        backend.refresh()
        assert backend.search(BackendQuery()).total == 1
    finally:
        remove_prefix(client, prefix)


def test_empty_prefix_answers_empty(client: Elasticsearch) -> None:
    backend = ElasticsearchBackend(client, fresh_prefix("empty"))
    assert backend.search(BackendQuery(text="anything")).total == 0
    assert backend.info().documents == 0
    assert backend.fetch(["x"]) == {}
