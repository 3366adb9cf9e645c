"""The embedded backend's region index (indexer/backends/region_index.py): built once and shared
through its file, no float32 region matrix held beside it, and exact answers from the stored
regions while no index exists yet."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexer.backends import embedded_regions, region_index
from indexer.backends.base import BackendQuery
from indexer.backends.embedded import EmbeddedBackend
from indexer.backends.embedded_regions import stored_rows
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


def test_a_new_process_serves_its_first_query_from_the_published_index_and_its_tail(
    tmp_path: Path,
) -> None:
    path = tmp_path / "index.sqlite"
    writer = indexed(path)
    writer.write(documents())
    top(writer, QUERY)  # builds and publishes the region index
    built = writer._region_index
    assert built is not None
    # written after the index: found only through the exact tail (its whole map points away)
    late = IndexDocument(
        record=MapRecord(id="m:late", source="m", title="Late map"),
        vector=-QUERY,
        model_id="region-index-8d",
        regions=RegionSet.build("2,4@0.25", [(0, 0, 10, 10)], [4], QUERY.reshape(1, -1)),
    )
    writer.write([late])
    reader = indexed(path, background=True)
    query = BackendQuery(vector=QUERY, num_candidates=10, region_combine="max")
    hits = [(hit.id, round(hit.score, 5)) for hit in reader.search(query).semantic]
    # the first query: mapped in place, not left to a thread while every region is streamed
    assert reader.last_semantic_path == "index" and reader._region_thread is None
    assert reader._region_index is not None and reader._region_index.token == built.token
    assert hits[0] == ("m:late", 1.0)
    exact = EmbeddedBackend(path)
    assert hits == [(hit.id, round(hit.score, 5)) for hit in exact.search(query).semantic]
    for backend in (writer, reader, exact):
        backend.close()


@pytest.mark.parametrize("group_bytes", [512 << 20, 3 * DIMS], ids=["one-group", "many-groups"])
def test_the_streamed_build_writes_the_file_faiss_would_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group_bytes: int
) -> None:
    import faiss

    # many groups: a list gathered in several reads, lists longer than a group, 7-row reads
    monkeypatch.setattr(region_index, "LAYOUT_BYTES", group_bytes)
    monkeypatch.setattr(region_index, "LAYOUT_READ_ROWS", 7)
    path = tmp_path / "index.sqlite"
    backend = indexed(path)
    backend.write(documents())
    top(backend, QUERY)
    built = backend._region_index
    assert built is not None and built.regions == 5 * MAPS
    written = region_index.index_path(path, built.token).read_bytes()
    # the same trained index filled by faiss itself, every region in docno order, ids = rows
    reference = faiss.read_index(str(region_index.index_path(path, built.token)))
    reference.reset()
    stored = sorted(backend._conn.execute("SELECT docno, vectors FROM regions"))
    vectors = np.frombuffer(b"".join(blob for _, blob in stored), "<f4").reshape(-1, DIMS)
    reference.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
    assert written == faiss.serialize_index(reference).tobytes()
    assert np.array_equal(built.owner, np.repeat([docno for docno, _ in stored], 5))
    assert not list(tmp_path.glob("*.tmp"))  # the scratch codes and the temporary file are gone
    backend.close()


def test_candidates_read_on_several_connections_score_as_on_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "index.sqlite"
    backend = indexed(path)
    backend.write(documents())
    query = BackendQuery(vector=QUERY, num_candidates=40)

    def listed() -> list[tuple[str, float, float | None, list]]:
        hits = backend.search(query).semantic
        return [(h.id, h.score, h.region_score, list(h.regions)) for h in hits]

    monkeypatch.setattr(embedded_regions, "READ_THREADS", 1)
    one = listed()
    assert backend._region_reader is None
    monkeypatch.setattr(embedded_regions, "READ_THREADS", 4)
    monkeypatch.setattr(embedded_regions, "PARALLEL_READ_MIN", 1)
    assert listed() == one and backend.last_semantic_path == "index"
    reader = backend._region_reader
    assert reader is not None and len(reader._conns) == 4
    docnos = [int(d) for (d,) in backend._conn.execute("SELECT docno FROM regions ORDER BY docno")]
    assert reader.rows(docnos) == stored_rows(backend._conn, docnos)
    backend.close()
    assert backend._region_reader is None


def test_the_filter_bitmap_lets_through_exactly_the_allowed_maps_regions(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    backend = indexed(path)
    backend.write(documents())
    top(backend, QUERY)
    built = backend._region_index
    assert built is not None
    owner = np.asarray(built.owner)
    rng = np.random.default_rng(3)
    for size in (int(owner.max()) + 1, int(owner.max()) - 10):  # the mask may end before a map
        allowed = rng.random(size) < 0.3
        expected = np.array([d < size and bool(allowed[d]) for d in owner.tolist()])
        assert np.array_equal(built.passing_rows(allowed), expected)
        # rows not grouped by map (an index built in another order) are looked up one by one
        shuffled = region_index.RegionIndex(
            token="t", seq=0, index=built.index, owner=owner[::-1].copy(), maps=built.maps
        )
        assert np.array_equal(shuffled.passing_rows(allowed), expected[::-1])
    backend.close()


def _rows_in_child(
    reader: embedded_regions.StoredRegionReader, docnos: list[int], out: Any
) -> None:
    out.put((len(reader.rows(docnos)), [id(conn) for conn in reader._conns]))


def test_a_forked_process_reads_stored_regions_on_its_own_connections(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    backend = indexed(path)
    backend.write(documents())
    docnos = [int(d) for (d,) in backend._conn.execute("SELECT docno FROM regions")]
    reader = embedded_regions.StoredRegionReader(path, 3)
    assert len(reader.rows(docnos)) == MAPS  # the parent's threads and connections exist now
    parents = {id(conn) for conn in reader._conns}
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_rows_in_child, args=(reader, docnos, out))
    child.start()
    child.join(30)
    hung = child.is_alive()
    if hung:
        child.kill()
    assert not hung, "the forked child waited forever on its parent's reader threads"
    read, used = out.get(timeout=5)
    assert read == MAPS
    # SQLite: a connection opened before fork() must not be used in the child
    assert len(used) == 3 and not parents & set(used)
    reader.close()
    backend.close()
