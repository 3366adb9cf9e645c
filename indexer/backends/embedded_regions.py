"""The embedded backend's region vectors: one ``regions`` row per map (its boxes, grid levels and
vectors packed as arrays), and in memory one region matrix beside the whole-map matrix, each row
owned by a docno, so a map's semantic score can take its best region (docs/regions.md)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from indexer.backends.base import RegionMatch
from indexer.backends.region_matches import ranked_matches
from indexer.region_set import RegionSet

REGIONS_DDL = """
CREATE TABLE IF NOT EXISTS regions (
    docno INTEGER PRIMARY KEY,
    grid TEXT NOT NULL,
    count INTEGER NOT NULL,
    boxes BLOB NOT NULL,
    levels BLOB NOT NULL,
    vectors BLOB NOT NULL
);
"""
# A region matrix with more dead rows than live ones is compacted on the next load.
COMPACT_FRACTION = 0.5
# Candidate maps whose stored regions are read on several connections at once (fewer: on the
# query's own): READ_THREADS of them, each reading a run of the sorted docnos. At 562,842 maps,
# 363 maps from an evicted 21 GB file: 172 ms on 1 connection, 111 on 2, 85 on 4, 85 on 8 (warm:
# 14, 12, 14, 18 ms; docs/benchmarks.md "Regions").
READ_THREADS = 4
PARALLEL_READ_MIN = 64


def region_row(docno: int, regions: RegionSet) -> tuple[int, str, int, bytes, bytes, bytes]:
    """The ``regions`` row of one map."""
    return (
        docno,
        regions.grid,
        len(regions),
        np.ascontiguousarray(regions.boxes, dtype="<i4").tobytes(),
        np.ascontiguousarray(regions.levels, dtype="<i2").tobytes(),
        np.ascontiguousarray(regions.vectors, dtype="<f4").tobytes(),
    )


def region_set(grid: str, count: int, boxes: bytes, levels: bytes, vectors: bytes) -> RegionSet:
    """A stored ``regions`` row back as a RegionSet."""
    vector_array = np.frombuffer(vectors, dtype="<f4")
    dims = len(vector_array) // count if count else 0
    return RegionSet(
        grid=grid,
        boxes=np.frombuffer(boxes, dtype="<i4").reshape(count, 4).astype(np.int32),
        levels=np.frombuffer(levels, dtype="<i2").astype(np.int32),
        vectors=vector_array.reshape(count, dims).astype(np.float32),
    )


def write_regions(
    conn: sqlite3.Connection,
    written: Sequence[tuple[int, RegionSet | None]],
) -> None:
    """Store (or clear, for None) the regions of written maps, inside the caller's transaction."""
    conn.executemany(
        "INSERT OR REPLACE INTO regions(docno, grid, count, boxes, levels, vectors) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [region_row(docno, regions) for docno, regions in written if regions is not None],
    )
    conn.executemany(
        "DELETE FROM regions WHERE docno = ?",
        [(docno,) for docno, regions in written if regions is None],
    )


def read_regions(conn: sqlite3.Connection, docnos: Sequence[int]) -> dict[int, RegionSet]:
    """The stored regions of these maps (absent: never tiled)."""
    found: dict[int, RegionSet] = {}
    for start in range(0, len(docnos), 500):
        part = list(docnos[start : start + 500])
        marks = ",".join("?" * len(part))
        sql = (
            "SELECT docno, grid, count, boxes, levels, vectors FROM regions "
            f"WHERE docno IN ({marks})"
        )
        for docno, grid, count, boxes, levels, vectors in conn.execute(sql, part):
            found[int(docno)] = region_set(grid, int(count), boxes, levels, vectors)
    return found


class RegionColumns:
    """Every live region in memory: a float32 matrix, each row's owning docno, box and level.

    A map's regions occupy consecutive rows; replacing them kills the old rows and appends new
    ones (compacted when dead rows outnumber live ones), so incremental reloads stay cheap."""

    def __init__(self, after: int | None = None) -> None:
        # None: every map's regions; a seq: only those of maps changed after it (a region
        # index's tail); -1: none (the stored regions are read instead)
        self.after = after
        self.vectors: np.ndarray | None = None
        self.owner = np.zeros(0, np.int64)
        self.boxes = np.zeros((0, 4), np.int32)
        self.levels = np.zeros(0, np.int16)
        self.alive = np.zeros(0, bool)
        self.used = 0
        self.seq = 0  # the change sequence the regions are loaded up to
        self.rows_of: dict[int, tuple[int, int]] = {}  # docno → (first row, count)
        self._segments: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def live(self) -> int:
        """How many regions are searchable."""
        return sum(count for _, count in self.rows_of.values())

    def drop(self, docnos: Sequence[int]) -> None:
        """Forget these maps' regions (their rows become dead)."""
        for docno in docnos:
            rows = self.rows_of.pop(int(docno), None)
            if rows is not None:
                self.alive[rows[0] : rows[0] + rows[1]] = False
                self._segments = None

    def put(self, docno: int, regions: RegionSet) -> None:
        """Replace one map's regions."""
        self.drop([docno])
        count = len(regions)
        if count == 0:
            return
        dims = regions.vectors.shape[1]
        self._reserve(self.used + count, dims)
        assert self.vectors is not None
        start, end = self.used, self.used + count
        self.vectors[start:end] = regions.vectors
        self.owner[start:end] = docno
        self.boxes[start:end] = regions.boxes
        self.levels[start:end] = regions.levels
        self.alive[start:end] = True
        self.rows_of[int(docno)] = (start, count)
        self.used = end
        self._segments = None

    def _reserve(self, size: int, dims: int) -> None:
        if self.vectors is None or self.vectors.shape[1] != dims:
            self.vectors = np.zeros((0, dims), np.float32)
        capacity = len(self.owner)
        if size <= capacity:
            return
        grown = max(size, int(capacity * 1.25) + 1024)

        def grow(array: np.ndarray) -> np.ndarray:
            bigger = np.zeros((grown, *array.shape[1:]), array.dtype)
            bigger[: len(array)] = array
            return bigger

        self.vectors = grow(self.vectors)
        self.owner, self.boxes = grow(self.owner), grow(self.boxes)
        self.levels, self.alive = grow(self.levels), grow(self.alive)

    def compact_if_sparse(self) -> None:
        """Rewrite the matrix without dead rows once they outnumber the live ones."""
        live = self.live
        if self.used == 0 or (self.used - live) <= COMPACT_FRACTION * self.used:
            return
        keep = np.flatnonzero(self.alive[: self.used])
        assert self.vectors is not None
        self.vectors = self.vectors[keep].copy()
        self.owner, self.boxes = self.owner[keep].copy(), self.boxes[keep].copy()
        self.levels, self.alive = self.levels[keep].copy(), self.alive[keep].copy()
        self.used = len(keep)
        position = {int(old): i for i, old in enumerate(keep.tolist())}
        self.rows_of = {d: (position[s], c) for d, (s, c) in self.rows_of.items()}
        self._segments = None

    def segments(self) -> tuple[np.ndarray, np.ndarray]:
        """(first row of each map with regions, in row order; its docno): for ``reduceat``."""
        if self._segments is None:
            pairs = sorted((start, docno) for docno, (start, _) in self.rows_of.items())
            starts = np.array([s for s, _ in pairs], np.int64)
            owners = np.array([d for _, d in pairs], np.int64)
            self._segments = (starts, owners)
        return self._segments

    def scores(self, vector: np.ndarray) -> np.ndarray:
        """Cosine of every row with ``vector`` (dead rows -inf)."""
        if self.vectors is None or self.used == 0:
            return np.zeros(0, np.float32)
        scores = self.vectors[: self.used] @ vector
        scores[~self.alive[: self.used]] = -np.inf
        return scores

    def best_per_map(self, scores: np.ndarray, size: int) -> np.ndarray:
        """(size,) best region cosine of each docno (-inf for maps without regions)."""
        best = np.full(size, -np.inf, np.float32)
        starts, owners = self.segments()
        if len(starts) == 0:
            return best
        # A map's rows are consecutive; rows after its last one up to the next map are dead (-inf).
        best[owners] = np.maximum.reduceat(scores, starts)
        return best

    def top_regions(self, docno: int, scores: np.ndarray, k: int) -> list[RegionMatch]:
        """A map's best ``k`` regions for the scored query, best first (ties: larger first)."""
        rows = self.rows_of.get(int(docno))
        if rows is None:
            return []
        start, count = rows
        end = start + count
        return ranked_matches(self.boxes[start:end], self.levels[start:end], scores[start:end], k)


StoredRow = tuple[int, int, bytes, bytes, bytes]  # docno, count, boxes, levels, vectors


def stored_rows(conn: sqlite3.Connection, docnos: Sequence[int]) -> list[StoredRow]:
    """The stored ``regions`` rows of these maps (those with regions), in docno order when
    ``docnos`` is sorted."""
    rows: list[StoredRow] = []
    for start in range(0, len(docnos), 500):
        part = list(docnos[start : start + 500])
        marks = ",".join("?" * len(part))
        rows += conn.execute(
            "SELECT docno, count, boxes, levels, vectors FROM regions "
            f"WHERE count > 0 AND docno IN ({marks})",
            part,
        ).fetchall()
    return rows


class StoredRegionReader:
    """Reads many maps' stored regions at once, a slice each on ``threads`` connections of its
    own. A candidate list's regions (about 13 MB for 360 maps) lie spread over a file that need
    not fit the page cache (21 GB at 562,842 maps); read from disk, each map costs a seek, and
    reading in parallel overlaps them (docs/benchmarks.md "Regions")."""

    def __init__(self, path: Path, threads: int, busy_timeout: float = 30.0) -> None:
        self.path = path
        self.threads = threads
        self._busy_timeout = busy_timeout
        self._conns: list[sqlite3.Connection] = []
        self._pool: ThreadPoolExecutor | None = None
        self._pid = os.getpid()
        self._inherited: list[tuple[list[sqlite3.Connection], ThreadPoolExecutor | None]] = []

    def rows(self, docnos: Sequence[int]) -> list[StoredRow]:
        """The stored rows of these maps (sorted docnos: each connection reads a run of them)."""
        if self._pid != os.getpid():
            # a forked child (a pre-forking server or worker): SQLite connections opened before
            # fork() must not be used (nor closed) in the child, so open its own; the parent's
            # are kept referenced, never touched
            self._inherited.append((self._conns, self._pool))
            self._conns, self._pool, self._pid = [], None, os.getpid()
        if not self._conns:
            self._conns = [
                sqlite3.connect(
                    str(self.path),
                    isolation_level=None,
                    check_same_thread=False,
                    timeout=self._busy_timeout,
                )
                for _ in range(self.threads)
            ]
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="region-read")
        assert self._pool is not None
        size = -(-len(docnos) // self.threads)
        parts = [list(docnos[start : start + size]) for start in range(0, len(docnos), size)]
        found = self._pool.map(stored_rows, self._conns[: len(parts)], parts)
        return [row for part in found for row in part]

    def close(self) -> None:
        """Close its connections and threads."""
        if self._pool is not None:
            self._pool.shutdown()
        for conn in self._conns:
            conn.close()
        self._conns, self._pool = [], None


class StoredScores:
    """The stored regions of some maps scored exactly against one query (one read of their rows,
    one matrix product): each map's best cosine, and its best regions on demand."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        docnos: Sequence[int],
        vector: np.ndarray,
        reader: StoredRegionReader | None = None,
    ) -> None:
        if reader is not None and len(docnos) >= PARALLEL_READ_MIN:
            rows = reader.rows(docnos)
        else:
            rows = stored_rows(conn, docnos)
        counts = np.array([row[1] for row in rows], np.int64)
        self.starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.row_of = {int(row[0]): i for i, row in enumerate(rows)}
        self.boxes = np.frombuffer(b"".join(row[2] for row in rows), "<i4").reshape(-1, 4)
        self.levels = np.frombuffer(b"".join(row[3] for row in rows), "<i2")
        matrix = np.frombuffer(b"".join(row[4] for row in rows), "<f4").reshape(
            len(self.levels), -1
        )
        self.scores = matrix @ vector if len(matrix) else np.zeros(0, np.float32)
        self._best = (
            np.maximum.reduceat(self.scores, self.starts[:-1]) if len(rows) else np.zeros(0)
        )

    def best(self, docno: int) -> float:
        """The map's best region cosine (-inf: no regions)."""
        row = self.row_of.get(int(docno))
        return -np.inf if row is None else float(self._best[row])

    def matches(self, docno: int, k: int) -> list[RegionMatch]:
        """The map's best ``k`` regions, best first."""
        row = self.row_of.get(int(docno))
        if row is None:
            return []
        start, end = self.starts[row], self.starts[row + 1]
        return ranked_matches(
            self.boxes[start:end], self.levels[start:end], self.scores[start:end], k
        )


def stored_best(conn: sqlite3.Connection, vector: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """(len(allowed),) best region cosine of every allowed map (-inf: none), by one streaming pass
    over the stored regions: exact, slow, and never more than a chunk of float32 in memory."""
    best = np.full(len(allowed), -np.inf, np.float32)
    cursor = conn.execute("SELECT docno, count, vectors FROM regions WHERE count > 0")
    dims = len(vector)
    while rows := cursor.fetchmany(2_000):
        kept = [row for row in rows if row[0] < len(allowed) and allowed[row[0]]]
        if not kept:
            continue
        matrix = np.frombuffer(b"".join(row[2] for row in kept), dtype="<f4").reshape(-1, dims)
        counts = np.array([row[1] for row in kept], np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        best[np.array([row[0] for row in kept], np.int64)] = np.maximum.reduceat(
            matrix @ vector, starts
        )
    return best
