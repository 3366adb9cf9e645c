"""The exact kernel and the embedded backend's columns snapshot: same answers as a fresh load from
SQLite, changes after the snapshot applied on open, and never a snapshot of another history."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from indexer.backends import embedded_alias
from indexer.backends.base import BackendQuery, Filters
from indexer.backends.embedded import EmbeddedBackend
from indexer.backends.embedded_snapshot import META_KEY, snapshot_path
from indexer.backends.vector_kernel import exact_top, top_positions
from indexer.records import IndexDocument, MapRecord, Place

DIMS = 8


def docs(count: int, seed: int = 0, start: int = 0) -> list[IndexDocument]:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((count, DIMS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [
        IndexDocument(
            record=MapRecord(
                id=f"t:{start + n}",
                source="t",
                title=f"Map {start + n} of {'harbour' if n % 3 == 0 else 'town'}",
                places=[Place(name=f"P{n % 7}")],
                year_start=1800 + n % 150,
                year_end=1800 + n % 150,
            ),
            vector=vectors[n],
            model_id="m",
        )
        for n in range(count)
    ]


def queries(count: int = 5) -> list[BackendQuery]:
    rng = np.random.default_rng(42)
    vectors = rng.standard_normal((count, DIMS)).astype(np.float32)
    return [
        BackendQuery(
            text="harbour" if n % 2 else None,
            vector=vectors[n] / np.linalg.norm(vectors[n]),
            num_candidates=25,
            facets=("place", "decade"),
            filters=Filters(year_from=1850) if n % 3 == 0 else Filters(),
        )
        for n in range(count)
    ]


def answers(backend: EmbeddedBackend) -> list[object]:
    found = []
    for query in queries():
        result = backend.search(query)
        found.append(
            (
                [(h.id, h.score) for h in result.semantic],
                [h.id for h in result.keyword],
                result.total,
                result.facets,
            )
        )
    return found


def test_top_positions_keeps_ties_and_drops_masked() -> None:
    scores = np.array([0.5, 0.9, 0.9, -np.inf, 0.1], np.float32)
    assert sorted(top_positions(scores, 1).tolist()) == [1, 2]
    assert sorted(top_positions(scores, 10).tolist()) == [0, 1, 2, 4]
    masked = np.array([-np.inf, -np.inf, 0.3], np.float32)
    assert top_positions(masked, 2).tolist() == [2]


@pytest.mark.parametrize("fraction", [0.02, 0.5, 1.0])
def test_exact_top_matches_a_brute_force_sort(fraction: float) -> None:
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((2000, DIMS)).astype(np.float32)
    query = rng.standard_normal(DIMS).astype(np.float32)
    allowed = rng.random(2000) < fraction
    rows, scores = exact_top(vectors, allowed, query, 30, min_similarity=-0.5)
    expected = [
        int(r) for r in np.argsort(-(vectors @ query)) if allowed[r] and vectors[r] @ query >= -0.5
    ][:30]
    assert sorted(rows.tolist()) == sorted(expected)
    assert scores.dtype == np.float32
    np.testing.assert_array_equal(scores, (vectors[rows] @ query))


def test_snapshot_opens_with_the_same_answers(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    writer = EmbeddedBackend(path, snapshot_min_rows=50)
    writer.write(docs(300))
    writer.refresh()  # loads, and writes the snapshot (300 rows >= 50)
    assert snapshot_path(path).exists()
    expected = answers(writer)
    reader = EmbeddedBackend(path, snapshot_min_rows=50)
    assert answers(reader) == expected
    assert reader._columns.snapshot_token is not None  # mapped, not loaded row by row
    assert not reader._columns.vectors.flags.owndata  # type: ignore[union-attr]
    unmapped = EmbeddedBackend(path, snapshot_min_rows=10**9)
    snapshot_path(path).rename(tmp_path / "aside")
    assert answers(unmapped) == expected


def test_changes_after_the_snapshot_are_applied_on_open(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    writer = EmbeddedBackend(path, snapshot_min_rows=50)
    writer.write(docs(300))
    writer.refresh()
    token = writer._columns.snapshot_token
    writer.write(docs(5, seed=9, start=1000))  # new rows past the snapshot
    writer.write(docs(3, seed=8))  # updates t:0..t:2 with new vectors
    writer.delete(["t:3", "t:4"])
    writer.refresh()
    assert writer._columns.snapshot_token == token  # few changes: no new snapshot
    expected = answers(writer)
    reader = EmbeddedBackend(path, snapshot_min_rows=50)
    assert answers(reader) == expected
    assert reader._columns.snapshot_token == token
    fresh = EmbeddedBackend(path, snapshot_min_rows=10**9)
    snapshot_path(path).unlink()
    assert answers(fresh) == expected
    hits = fresh.search(BackendQuery(vector=docs(5, seed=9, start=1000)[0].vector))
    assert hits.semantic[0].id == "t:1000"
    assert "t:3" not in {
        h.id for h in fresh.search(BackendQuery(vector=docs(4)[3].vector)).semantic
    }


def test_many_changes_write_a_new_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    backend = EmbeddedBackend(path, snapshot_min_rows=50)
    backend.write(docs(100))
    backend.refresh()
    first = backend._columns.snapshot_token
    backend.write(docs(60, seed=3, start=500))
    backend.refresh()
    assert backend._columns.snapshot_token not in (None, first)
    assert backend._columns.size >= 160


def test_a_snapshot_of_another_history_is_ignored(tmp_path: Path) -> None:
    """A file restored from an older copy (its meta names an older snapshot token) must not use the
    newer snapshot lying beside it, even once its seq has grown past the snapshot's."""
    path = tmp_path / "index.sqlite"
    backend = EmbeddedBackend(path, snapshot_min_rows=50)
    backend.write(docs(100))
    backend.refresh()
    backend.close()
    shutil.copy(path, tmp_path / "old.sqlite")
    backend = EmbeddedBackend(path, snapshot_min_rows=50)
    backend.write(docs(100, seed=5, start=200))  # 100 more: a new snapshot
    backend.refresh()
    backend.close()
    shutil.copy(tmp_path / "old.sqlite", path)  # "restore" over the live file
    for side in ("-wal", "-shm"):
        Path(f"{path}{side}").unlink(missing_ok=True)
    restored = EmbeddedBackend(path, snapshot_min_rows=10**9)
    restored.write(docs(150, seed=6, start=5000))  # seq grows past the snapshot's
    restored.refresh()
    assert restored._columns.snapshot_token is None  # loaded from SQLite, not mapped
    result = restored.search(BackendQuery(filters=Filters(ids=("t:250",))))
    assert result.total == 0  # t:250 exists only in the newer history


def test_publish_records_the_token_in_meta(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    backend = EmbeddedBackend(path, snapshot_min_rows=50)
    backend.write(docs(80))
    backend.refresh()
    conn = sqlite3.connect(path)
    (token,) = conn.execute("SELECT value FROM meta WHERE key = ?", (META_KEY,)).fetchone()
    assert token == backend._columns.snapshot_token


def test_dropping_a_physical_file_removes_its_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "index-v2-x.sqlite"
    backend = EmbeddedBackend(path, snapshot_min_rows=50)
    backend.write(docs(80))
    backend.refresh()
    backend.close()
    assert snapshot_path(path).exists()
    embedded_alias.delete_physical(path)
    assert not snapshot_path(path).exists() and not path.exists()


def test_fetch_takes_vectors_from_the_loaded_matrix_only_when_it_is_current(
    tmp_path: Path,
) -> None:
    backend = EmbeddedBackend(tmp_path / "index.sqlite", snapshot_min_rows=50)
    written = docs(60)
    backend.write(written)
    backend.refresh()  # mapped snapshot, current
    fetched = backend.fetch(["t:5", "t:6"])
    np.testing.assert_array_equal(fetched["t:5"].vector, written[5].vector)  # type: ignore[arg-type]
    moved = docs(1, seed=77, start=5)[0]
    backend.write([moved])  # not synced yet: the matrix is one write behind
    assert backend._columns.seq < backend.change_seq()
    np.testing.assert_array_equal(backend.fetch(["t:5"])["t:5"].vector, moved.vector)  # type: ignore[arg-type]
    backend.refresh()
    np.testing.assert_array_equal(backend.fetch(["t:5"])["t:5"].vector, moved.vector)  # type: ignore[arg-type]
