"""The embedded backend's approximate vector index (faiss IVF over 8-bit scalar-quantised codes) and
the planner that picks, per query, between it, a quantised exact scan and the float32 kernel
(``vector_kernel``).

The index covers the vectors as of one change ``seq``; rows written after it (the tail) are scored
exactly and merged in, deleted rows are masked out, and every candidate is rescored with its
float32 vector, so a hit's score is always exact. Probing every list scans all the 8-bit codes: with
the largest quantisation error measured at build (``residual_max``), the caller can prove that no
row left out of the rescored candidates could reach the top k (``error_bound``), which makes that
scan exact at a quarter of the float32 bytes. Like the columns snapshot the index is a cache beside
the SQLite file (faiss's own format, memory-mapped on load: processes share its pages), named by a
token that the SQLite meta records, so a file of another history is never used.
The thresholds below come from the measurements in docs/benchmarks.md."""

from __future__ import annotations

import fcntl
import json
import math
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.backends.embedded_schema import get_meta

SUFFIX = ".ann"
META_KEY = "vector_index"
# Collections smaller than this are scanned exactly (a few ms), never indexed.
MIN_ROWS = 50_000
# Fewer rows than this fraction passing the filters: a filtered IVF probe finds too few of them
# (recall@10 0.24-0.68 at 1% in issue 13's measurements), so they are served exactly.
MIN_SELECTIVITY = 0.05
# Deeper semantic windows than this are served exactly: IVF recall@1000 on clustered vectors was
# 0.18-0.68 (nprobe 8-128), far below the 0.95 a fused window needs.
MAX_DEPTH = 200
# Served exactly, fewer rows than this fraction pass: their float32 rows are gathered (0.2 ms at
# 0.1% of 562,842, 9 ms CPU at 1%); from it up, the 8-bit scan of every code is cheaper (6 ms at
# 1%, 12 ms at 5% against 36 ms) and leaves the float32 pages untouched but for the rescored rows.
GATHER_FRACTION = 0.01
# A rebuild is due when more than this fraction of the rows (at least TAIL_MIN) changed since.
STALE_FRACTION = 0.1
TAIL_MIN = 5_000
# Lists probed for an unfiltered top 10. 32 gave recall@10 1.0 on clustered vectors but 0.95 for
# the demo model's text queries (image queries 0.999): text vectors sit apart from the images they
# match (the modality gap), so their neighbours spread over more lists; 64 gave 0.98 there.
NPROBE_MIN = 64
RERANK_MIN = 100  # candidates rescored exactly, at least (2·k above that)
TRAIN_PER_LIST = 30
BUILD_BLOCK = 50_000  # rows assigned, encoded and measured at a time


def index_path(database: Path, token: str) -> Path:
    """A vector index file of one physical SQLite file (the token names the build)."""
    return Path(f"{database}{SUFFIX}.{token}")


def list_count(rows: int) -> int:
    """IVF lists for ``rows`` vectors: about 2·√n (≈ 1,500 lists of ≈ 375 at 562,842)."""
    return max(1, min(int(2 * math.sqrt(rows)), rows // 8 or 1))


@dataclass(frozen=True)
class PlannerLimits:
    """When the planner leaves the exact path for the index (tests lower them on small corpora)."""

    min_rows: int = MIN_ROWS
    min_selectivity: float = MIN_SELECTIVITY
    max_depth: int = MAX_DEPTH
    gather_fraction: float = GATHER_FRACTION
    tail_min: int = TAIL_MIN  # a rebuild is due past max(tail_min, STALE_FRACTION · rows)


def choose_path(
    index: VectorIndex | None, vectors_total: int, allowed: int, k: int, limits: PlannerLimits
) -> str:
    """``"index"``, ``"quantised"`` (every 8-bit code scanned, exact by ``error_bound``) or
    ``"exact"`` (the float32 kernel) for one semantic list of depth ``k`` over ``allowed`` of the
    ``vectors_total`` rows with vectors."""
    if index is None or vectors_total < limits.min_rows or allowed == 0:
        return "exact"
    if allowed < limits.min_selectivity * vectors_total or k > limits.max_depth:
        return "exact" if allowed < limits.gather_fraction * vectors_total else "quantised"
    return "index"


@dataclass
class VectorIndex:
    """A faiss IVF-SQ8 index over the docnos below ``rows``, as of change ``seq``;
    ``residual_max``: the largest distance between an indexed vector and its decoded code."""

    token: str
    seq: int
    rows: int
    residual_max: float
    index: Any  # faiss.IndexIVFScalarQuantizer (ids = docnos)

    def candidates(
        self, query: np.ndarray, fresh: np.ndarray, fresh_count: int, k: int, selectivity: float
    ) -> np.ndarray:
        """Docnos the index proposes for the top ``k`` among ``fresh`` (a bool mask over the
        docnos below ``rows`` whose indexed vector is current and which pass the filters)."""
        depth = max(RERANK_MIN, 2 * k)
        # Deeper lists and filters that leave fewer rows per list both need more lists probed
        # (rows failing the filter are skipped by id, without computing their distance).
        scale = math.sqrt(max(1.0, k / 10)) / max(selectivity, MIN_SELECTIVITY)
        nprobe = min(int(self.index.nlist), math.ceil(NPROBE_MIN * scale))
        labels, _ = self._search(query, fresh, fresh_count, depth, nprobe)
        return labels

    def scan(
        self, query: np.ndarray, fresh: np.ndarray, fresh_count: int, depth: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(docnos, approximate scores, best first) of the ``depth`` best codes among ``fresh``,
        every list scanned: no row left out scores above the last by more than ``error_bound``."""
        return self._search(query, fresh, fresh_count, depth, int(self.index.nlist))

    def error_bound(self, query: np.ndarray) -> float:
        """How far a code's approximate score can be from the exact one for ``query`` (Cauchy-
        Schwarz over the quantisation residual, plus float32 rounding of 512-term sums)."""
        return float(np.linalg.norm(query)) * (self.residual_max * 1.01 + 1e-4)

    def _search(
        self, query: np.ndarray, fresh: np.ndarray, fresh_count: int, depth: int, nprobe: int
    ) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        params = faiss.SearchParametersIVF()
        params.nprobe = nprobe
        bits = None
        if fresh_count < self.index.ntotal:
            bits = np.packbits(fresh, bitorder="little")
            params.sel = faiss.IDSelectorBitmap(len(fresh), faiss.swig_ptr(bits))
        scores, labels = self.index.search(query.reshape(1, -1), depth, params=params)
        del bits  # the selector read it during the search
        found = labels[0] >= 0
        return labels[0][found], scores[0][found]


def build(vectors: np.ndarray, has_vector: np.ndarray, seq: int, seed: int = 0) -> VectorIndex:
    """Train and fill an IVF-SQ8 index (inner product) over the rows with vectors, measuring the
    largest quantisation residual on the way."""
    import faiss

    rows = len(has_vector)
    docnos = np.flatnonzero(has_vector)
    dims = vectors.shape[1]
    nlist = list_count(len(docnos))
    quantizer = faiss.IndexFlatIP(dims)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dims, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    rng = np.random.default_rng(seed)
    sample = docnos
    if len(docnos) > TRAIN_PER_LIST * nlist:
        sample = np.sort(rng.choice(docnos, TRAIN_PER_LIST * nlist, replace=False))
    index.train(np.ascontiguousarray(vectors[sample], np.float32))
    lists = _cover_every_residual(index, vectors, docnos)
    residual_max = 0.0
    for start in range(0, len(docnos), BUILD_BLOCK):
        part = docnos[start : start + BUILD_BLOCK]
        block = np.ascontiguousarray(vectors[part], np.float32)
        block_lists = np.ascontiguousarray(lists[start : start + BUILD_BLOCK])
        # list number + codes, as ``add`` would store them, without assigning the rows again
        codes = np.empty((len(part), index.sa_code_size()), np.uint8)
        index.encode_vectors(
            len(part),
            faiss.swig_ptr(block),
            faiss.swig_ptr(block_lists),
            faiss.swig_ptr(codes),
            True,
        )
        index.add_sa_codes(codes, part.astype(np.int64))
        residual = np.linalg.norm(block - index.sa_decode(codes), axis=1)
        residual_max = max(residual_max, float(residual.max()))
    return VectorIndex(
        token=secrets.token_hex(16), seq=seq, rows=rows, residual_max=residual_max, index=index
    )


def _cover_every_residual(index: Any, vectors: np.ndarray, docnos: np.ndarray) -> np.ndarray:
    """Set the 8-bit codes' per-dimension ranges to the extremes of every row's residual (trained
    on a sample, rows outside its range were clamped: residual_max 0.092 instead of 0.0114 at
    562,842), so the largest quantisation error, and with it ``error_bound``, stays small;
    returns each row's list (its nearest centroid), for encoding."""
    import faiss

    centroids = index.quantizer.reconstruct_n(0, index.nlist)
    low = np.full(index.d, np.inf, np.float32)
    high = np.full(index.d, -np.inf, np.float32)
    lists = np.empty(len(docnos), np.int64)
    for start in range(0, len(docnos), BUILD_BLOCK):
        block = np.ascontiguousarray(vectors[docnos[start : start + BUILD_BLOCK]], np.float32)
        _, nearest = index.quantizer.search(block, 1)
        lists[start : start + len(block)] = nearest[:, 0]
        residuals = block - centroids[nearest[:, 0]]
        np.minimum(low, residuals.min(axis=0), out=low)
        np.maximum(high, residuals.max(axis=0), out=high)
    # QT_8bit decodes dimension d as low[d] + (code + 0.5) / 255 · width[d]
    width = np.maximum(high - low, np.float32(1e-9))
    faiss.copy_array_to_vector(np.concatenate([low, width]).astype(np.float32), index.sq.trained)
    return lists


@contextmanager
def build_lock(database: Path, suffix: str = SUFFIX) -> Iterator[bool]:
    """Hold the index-building lock of this file (True), or learn that another process holds it
    (False); released when the block ends or the process dies. ``suffix`` names the kind of
    index (whole-map or region)."""
    with Path(f"{database}{suffix}.lock").open("a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def write_index(vector_index: VectorIndex, database: Path) -> tuple[str, Path, str]:
    """Write the index to a temporary file beside ``database``; returns (its path, the path to
    publish it at, the meta value naming it) for ``embedded_snapshot.publish``."""
    import faiss

    target = index_path(database, vector_index.token)
    temporary = target.with_name(f"{target.name}.tmp")
    faiss.write_index(vector_index.index, str(temporary))
    described = json.dumps(
        {
            "token": vector_index.token,
            "seq": vector_index.seq,
            "rows": vector_index.rows,
            "residual_max": vector_index.residual_max,
        }
    )
    return str(temporary), target, described


def drop_others(database: Path, keep: str) -> None:
    """Remove this file's older index files (processes that mapped them keep their inode)."""
    for path in database.parent.glob(f"{database.name}{SUFFIX}.*"):
        if path.name != index_path(database, keep).name and not path.name.endswith(".lock"):
            path.unlink(missing_ok=True)


def open_mapped(path: Path) -> Any:
    """A faiss IVF index file memory-mapped read-only (pages shared between processes), set up
    to search in the calling thread; raises RuntimeError when faiss cannot read it."""
    import faiss

    index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    stored = faiss.extract_index_ivf(index).invlists
    lists = faiss.downcast_InvertedLists(stored) if stored is not None else None
    if isinstance(lists, faiss.OnDiskInvertedLists):
        # Its default starts 32 threads per search to pre-read the probed lists: pages that are
        # already in memory, at 35-50% more CPU per query on two cores (measured at 562,842).
        lists.prefetch_nthread = 0
    return index


def read_index(conn: sqlite3.Connection, database: Path) -> VectorIndex | None:
    """The index this SQLite file's meta names (its history's), memory-mapped so its pages are
    shared between processes and loading costs nothing; None when there is none usable."""

    try:
        described = json.loads(get_meta(conn, META_KEY) or "null")
        if not isinstance(described, dict):
            return None
        token, seq, rows = str(described["token"]), int(described["seq"]), int(described["rows"])
        residual_max = float(described["residual_max"])  # missing in a build before session 3
    except (ValueError, KeyError, TypeError):
        return None
    path = index_path(database, token)
    if seq > int(get_meta(conn, "seq") or 0) or not path.exists():
        return None
    try:
        index = open_mapped(path)
    except RuntimeError:
        return None
    return VectorIndex(token=token, seq=seq, rows=rows, residual_max=residual_max, index=index)
