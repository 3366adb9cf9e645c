"""The embedded backend's vector index: recall against the exact kernel, the planner's rules, the
background build, and the index file shared by processes of the same history only."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from indexer.backends.base import BackendQuery, Filters
from indexer.backends.embedded import EmbeddedBackend
from indexer.backends.vector_index import (
    PlannerLimits,
    VectorIndex,
    build,
    choose_path,
    index_path,
)
from indexer.backends.vector_kernel import exact_top
from indexer.records import IndexDocument, MapRecord

DIMS = 32
LIMITS = PlannerLimits(min_rows=1000, min_selectivity=0.05, max_depth=100, tail_min=100)


def clustered(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(0).standard_normal((50, DIMS)).astype(np.float32)
    found = centres[rng.integers(0, 50, count)] + 0.3 * rng.standard_normal((count, DIMS))
    found = found.astype(np.float32)
    return found / np.linalg.norm(found, axis=1, keepdims=True)


def documents(matrix: np.ndarray) -> list[IndexDocument]:
    return [
        IndexDocument(
            record=MapRecord(id=f"x:{n:05d}", source="x", title=f"Sheet {n}"),
            vector=matrix[n],
            model_id="x-32",
        )
        for n in range(len(matrix))
    ]


def test_index_candidates_reach_the_exact_top_10() -> None:
    matrix = clustered(4000, seed=1)
    has_vector = np.ones(len(matrix), bool)
    index = build(matrix, has_vector, seq=1)
    recalls = []
    for query in clustered(20, seed=2):
        proposed = index.candidates(query, has_vector, len(matrix), 10, 1.0)
        rows, _ = exact_top(matrix, has_vector, query, 10)
        recalls.append(len(set(rows.tolist()) & set(proposed.tolist())) / 10)
    assert np.mean(recalls) >= 0.98


def test_index_candidates_respect_the_filter() -> None:
    matrix = clustered(3000, seed=3)
    index = build(matrix, np.ones(len(matrix), bool), seq=1)
    allowed = np.zeros(len(matrix), bool)
    allowed[::4] = True
    proposed = index.candidates(clustered(1, seed=4)[0], allowed, int(allowed.sum()), 10, 0.25)
    assert len(proposed) >= 10 and allowed[proposed].all()


@pytest.mark.parametrize(
    ("total", "allowed", "k", "expected"),
    [
        (5000, 5000, 10, "index"),  # unfiltered first page
        (5000, 1000, 10, "index"),  # broad filter (20%)
        (5000, 100, 10, "quantised"),  # selective filter (2%): every code scanned
        (5000, 30, 10, "exact"),  # very selective (0.6%): the float32 rows gathered
        (5000, 5000, 1000, "quantised"),  # deep window
        (500, 500, 10, "exact"),  # tiny collection
        (5000, 0, 10, "exact"),  # nothing passes
    ],
)
def test_planner_rules(total: int, allowed: int, k: int, expected: str) -> None:
    index = VectorIndex(token="t", seq=1, rows=total, residual_max=0.01, index=None)
    assert choose_path(index, total, allowed, k, LIMITS) == expected
    assert choose_path(None, total, allowed, k, LIMITS) == "exact"


def test_the_error_bound_holds_for_every_code() -> None:
    """Every code's approximate score is within ``error_bound`` of its exact score: what makes
    the quantised scan exact."""
    matrix = clustered(3000, seed=11)
    has_vector = np.ones(len(matrix), bool)
    index = build(matrix, has_vector, seq=1)
    assert 0 < index.residual_max < 0.5
    for query in clustered(5, seed=12):
        rows, approximate = index.scan(query, has_vector, len(matrix), len(matrix))
        assert len(rows) == len(matrix)
        assert np.all(np.abs(approximate - matrix[rows] @ query) <= index.error_bound(query))


def near_duplicates(count: int, seed: int) -> np.ndarray:
    """Vectors whose scores against their centre differ by less than the 8-bit error: the codes
    alone cannot order them."""
    rng = np.random.default_rng(seed)
    centre = rng.standard_normal(DIMS).astype(np.float32)
    found = centre + 0.02 * rng.standard_normal((count, DIMS)).astype(np.float32)
    return found / np.linalg.norm(found, axis=1, keepdims=True)


@pytest.mark.parametrize("years", [None, (1800, 1804)])
def test_quantised_scan_returns_the_exact_top(
    tmp_path: Path, years: tuple[int, int] | None
) -> None:
    """Deep windows and selective filters served by the 8-bit scan equal the float32 kernel's
    answer, also where the first candidates are not enough and the scan widens."""
    matrix = np.concatenate([clustered(1500, seed=13), near_duplicates(500, seed=14)])
    docs = documents(matrix)
    for n, doc in enumerate(docs):
        doc.record = doc.record.model_copy(
            update={"year_start": 1800 + n % 50, "year_end": 1800 + n % 50}
        )
    limits = PlannerLimits(min_rows=1000, min_selectivity=0.2, max_depth=50, gather_fraction=0.01)
    quantised = EmbeddedBackend(tmp_path / "q.sqlite", planner=limits, index_in_background=False)
    exact = EmbeddedBackend(tmp_path / "e.sqlite", planner=PlannerLimits(min_rows=10**9))
    for backend in (quantised, exact):
        backend.write(docs)
    filters = Filters() if years is None else Filters(year_from=years[0], year_to=years[1])
    centre = near_duplicates(1, seed=14)[0]
    depths = (120,) if years is None else (10, 120)  # an unfiltered top 10 takes the index
    for query in [centre, *clustered(4, seed=15)]:
        for k in depths:
            asked = BackendQuery(vector=query, num_candidates=k, filters=filters)
            found = quantised.search(asked).semantic
            assert quantised.last_semantic_path == "quantised"
            truth = exact.search(asked).semantic
            assert [(h.id, h.score) for h in found] == [(h.id, h.score) for h in truth]


def test_background_build_is_shared_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    matrix = clustered(1500, seed=5)
    builder = EmbeddedBackend(path, planner=LIMITS, snapshot_min_rows=10**9)
    builder.write(documents(matrix))
    query = BackendQuery(vector=matrix[7], num_candidates=10)
    assert builder.search(query).semantic[0].id == "x:00007"
    assert builder.last_semantic_path == "exact"  # the index is being built meanwhile
    assert builder._index_thread is not None
    builder._index_thread.join(timeout=120)
    built = builder._vector_index
    assert built is not None and index_path(path, built.token).exists()
    assert builder.search(query).semantic[0].id == "x:00007"
    assert builder.last_semantic_path == "index"

    reader = EmbeddedBackend(path, planner=LIMITS, index_in_background=False)
    assert [h.id for h in reader.search(query).semantic] == [
        h.id for h in builder.search(query).semantic
    ]
    assert reader.last_semantic_path == "index"
    assert reader._vector_index is not None and reader._vector_index.token == built.token


def test_an_index_of_another_history_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    backend = EmbeddedBackend(path, planner=LIMITS, index_in_background=False)
    backend.write(documents(clustered(1200, seed=6)))
    backend.search(BackendQuery(vector=clustered(1, seed=7)[0]))
    assert backend._vector_index is not None
    old_token = backend._vector_index.token
    backend.close()
    copy = tmp_path / "copy.sqlite"  # a copy of the same history, its index beside it: reused
    shutil.copy(path, copy)
    shutil.copy(index_path(path, old_token), index_path(copy, old_token))
    other = EmbeddedBackend(copy, planner=LIMITS, index_in_background=False)
    other.search(BackendQuery(vector=clustered(1, seed=7)[0]))
    assert other._vector_index is not None and other._vector_index.token == old_token
    fresh = EmbeddedBackend(tmp_path / "fresh.sqlite", planner=LIMITS, index_in_background=False)
    fresh.write(documents(clustered(1200, seed=8)))  # another history, a foreign index beside it
    shutil.copy(index_path(path, old_token), index_path(tmp_path / "fresh.sqlite", old_token))
    fresh.search(BackendQuery(vector=clustered(1, seed=7)[0]))
    assert fresh._vector_index is not None and fresh._vector_index.token != old_token


def test_a_rebuild_replaces_the_old_index_file(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    backend = EmbeddedBackend(path, planner=LIMITS, index_in_background=False)
    backend.write(documents(clustered(1200, seed=9)))
    backend.search(BackendQuery(vector=clustered(1, seed=7)[0]))
    first = backend._vector_index
    more = documents(clustered(400, seed=10))
    for doc in more:
        doc.record = doc.record.model_copy(update={"id": "y" + doc.record.id})
    backend.write(more)  # a third of the rows: past the tail limit, so a rebuild is due
    backend._index_checked = (-1, 0.0)
    found = backend.search(BackendQuery(vector=more[3].vector, num_candidates=10))
    assert found.semantic[0].id == more[3].id
    assert first is not None and backend._vector_index is not None
    assert backend._vector_index.token != first.token
    assert not index_path(path, first.token).exists()
    assert index_path(path, backend._vector_index.token).exists()
