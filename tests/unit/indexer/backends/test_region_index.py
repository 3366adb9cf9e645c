"""The embedded backend's region index (indexer/backends/region_index.py): built once and shared
through its file, no float32 region matrix held beside it, and exact answers from the stored
regions while no index exists yet."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from indexer.backends import region_index
from indexer.backends.base import BackendQuery
from indexer.backends.embedded import EmbeddedBackend
from indexer.backends.vector_index import PlannerLimits, build_lock
from indexer.records import IndexDocument, MapRecord
from indexer.region_set import RegionSet

DIMS = 8
MAPS = 60


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def documents() -> list[IndexDocument]:
    rng = np.random.default_rng(7)
    whole = unit(rng.standard_normal((MAPS, DIMS)))
    docs = []
    for n in range(MAPS):
        regions = unit(rng.standard_normal((5, DIMS)))
        boxes = [(j, j, 10, 10) for j in range(5)]
        docs.append(
            IndexDocument(
                record=MapRecord(id=f"m:{n:03d}", source="m", title=f"Map {n}"),
                vector=whole[n],
                model_id="region-index-8d",
                regions=RegionSet.build("2,4@0.25", boxes, [4] * 5, regions),
            )
        )
    return docs


def indexed(path: Path, background: bool = False) -> EmbeddedBackend:
    """A backend that serves regions from the region index from 10 maps on."""
    return EmbeddedBackend(path, planner=PlannerLimits(min_rows=10), index_in_background=background)


def top(backend: EmbeddedBackend, query: np.ndarray) -> list[tuple[str, float]]:
    result = backend.search(BackendQuery(vector=query, num_candidates=10))
    return [(hit.id, round(hit.score, 5)) for hit in result.semantic]


QUERY = unit(np.random.default_rng(8).standard_normal(DIMS))


def test_one_build_is_shared_through_the_file_and_no_region_matrix_is_held(
    tmp_path: Path,
) -> None:
    path = tmp_path / "index.sqlite"
    writer = indexed(path)
    assert writer.write(documents()).written == MAPS
    first = top(writer, QUERY)
    assert writer.last_semantic_path == "index"
    assert writer._region_index is not None and writer._region_index.regions == 5 * MAPS
    assert list(tmp_path.glob("index.sqlite.rix.*.owner.npy"))
    # the float32 regions stay in SQLite: in memory only the (empty) tail after the index
    assert writer._columns.regions.live == 0 and writer._columns.regions.vectors is None
    reader = indexed(path)
    assert top(reader, QUERY) == first
    assert reader._region_index is not None
    assert reader._region_index.token == writer._region_index.token  # loaded, not rebuilt
    exact = EmbeddedBackend(path)  # the shipped limits: regions held and scored in memory
    assert top(exact, QUERY) == first and exact.last_semantic_path == "exact"
    for backend in (writer, reader, exact):
        backend.close()


def test_before_the_index_exists_the_stored_regions_are_scored_exactly(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    exact = EmbeddedBackend(path)
    assert exact.write(documents()).written == MAPS
    expected = top(exact, QUERY)
    with build_lock(path, region_index.SUFFIX) as ours:
        assert ours  # another process "is building": this one must not wait for it
        waiting = indexed(path, background=True)
        assert top(waiting, QUERY) == expected
        assert waiting._region_thread is not None
        waiting._region_thread.join()
        assert waiting._region_index is None and waiting.last_semantic_path == "exact"
    waiting._region_checked = (-1, 0.0)  # look again now rather than after INDEX_RETRY_S
    top(waiting, QUERY)
    assert waiting._region_thread is not None
    waiting._region_thread.join()
    assert top(waiting, QUERY) == expected and waiting.last_semantic_path == "index"
    for backend in (exact, waiting):
        backend.close()


def test_an_index_file_of_another_history_is_not_used(tmp_path: Path) -> None:
    first, second = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    backend = indexed(first)
    backend.write(documents())
    top(backend, QUERY)
    built = backend._region_index
    assert built is not None
    other = indexed(second)
    other.write(documents())
    # b's meta names no index: a's files copied beside it are never picked up
    for source in tmp_path.glob("a.sqlite.rix.*"):
        source.rename(tmp_path / source.name.replace("a.sqlite", "b.sqlite"))
    conn = other._conn
    assert region_index.read_index(conn, second) is None
    for handle in (backend, other):
        handle.close()
