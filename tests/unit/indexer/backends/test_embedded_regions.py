"""The embedded backend's region storage: a layout-4 file upgraded in place, other processes'
region changes picked up incrementally, deleted maps' regions gone, the matrix compacted."""

from __future__ import annotations

import sqlite3

import numpy as np

from indexer.backends.base import BackendQuery
from indexer.backends.embedded import EmbeddedBackend
from indexer.backends.embedded_schema import SCHEMA_VERSION
from indexer.backends.embedded_snapshot import snapshot_path
from indexer.records import IndexDocument, MapRecord
from indexer.region_set import RegionSet
from indexer.settings import Settings


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, np.float32)
    return vector / np.linalg.norm(vector)


def doc(doc_id: str, vector: np.ndarray, regions: list[np.ndarray] | None, revision: int = 1):
    region_set = None
    if regions is not None:
        boxes = [(10 * i, 0, 10, 10) for i in range(len(regions))]
        region_set = RegionSet.build("2@0.25", boxes, [2] * len(regions), regions)
    return IndexDocument(
        record=MapRecord(id=doc_id, source="t", title=doc_id, revision=revision),
        vector=vector,
        model_id="m",
        regions=region_set,
    )


def best(backend: EmbeddedBackend, vector: np.ndarray) -> list[tuple[str, float]]:
    query = BackendQuery(vector=vector, num_candidates=10, region_combine="max")
    hits = backend.search(query).semantic
    return [(hit.id, round(hit.score, 3)) for hit in hits]


def test_a_layout_4_file_opens_and_gains_the_regions_table(settings: Settings) -> None:
    backend = EmbeddedBackend.open(settings)
    backend.write([doc("t:1", unit(1, 0), None)])
    path = backend.path
    backend.close()
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TABLE regions; UPDATE meta SET value = '4' WHERE key = 'schema_version';"
    )
    conn.close()
    reopened = EmbeddedBackend.open(settings)
    assert best(reopened, unit(0, 1)) == [("t:1", 0.0)]
    reopened.write([doc("t:1", unit(1, 0), [unit(0, 1)], revision=2)])
    assert best(reopened, unit(0, 1)) == [("t:1", 1.0)]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    conn.close()
    reopened.close()


def test_other_processes_region_changes_and_deletes_are_picked_up(settings: Settings) -> None:
    reader = EmbeddedBackend.open(settings)
    writer = EmbeddedBackend.open(settings)
    up, right = unit(0, 1), unit(1, 0)
    writer.write([doc("t:1", right, [up]), doc("t:2", right, [unit(1, 1)])])
    assert best(reader, up)[:2] == [("t:1", 1.0), ("t:2", 0.707)]
    writer.write([doc("t:1", right, [right], revision=2)])  # new regions replace the old ones
    assert best(reader, up)[:2] == [("t:2", 0.707), ("t:1", 0.0)]
    writer.delete(["t:2"])
    assert best(reader, up) == [("t:1", 0.0)]
    assert reader.fetch(["t:1"])["t:1"].regions is not None


def test_the_region_matrix_is_compacted_when_mostly_dead(settings: Settings) -> None:
    backend = EmbeddedBackend.open(settings)
    up, right = unit(0, 1), unit(1, 0)
    backend.write([doc(f"t:{i}", right, [right, right]) for i in range(10)])
    backend.refresh()
    for revision in range(2, 6):  # every map's regions replaced over and over
        backend.write([doc(f"t:{i}", right, [right, up], revision) for i in range(10)])
        backend.refresh()
    regions = backend._sync().regions
    assert regions.live == 20 and regions.used <= 2 * regions.live
    assert best(backend, up)[0] == ("t:0", 1.0)
    hit = backend.search(BackendQuery(vector=up, num_candidates=1, region_combine="max")).semantic[
        0
    ]
    assert hit.regions[0].box == (10, 0, 10, 10) and hit.regions[0].score == 1.0


def test_regions_are_searched_when_the_columns_come_from_a_snapshot(settings: Settings) -> None:
    up, right = unit(0, 1), unit(1, 0)
    writer = EmbeddedBackend(settings.embedded_path, snapshot_min_rows=1)
    writer.write([doc(f"t:{i}", right, [up] if i == 3 else [right]) for i in range(5)])
    writer.refresh()  # loads, then writes and maps the snapshot (it holds no regions)
    assert best(writer, up)[0] == ("t:3", 1.0)
    assert snapshot_path(writer.path).exists()
    reader = EmbeddedBackend(settings.embedded_path, snapshot_min_rows=1)  # opens from it
    assert best(reader, up)[0] == ("t:3", 1.0)
    writer.write([doc("t:3", right, [right], revision=2)])
    assert best(reader, up)[0][1] == 0.0
