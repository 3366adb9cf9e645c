"""The embedded backend's approximate index over region vectors (faiss IVF over 8-bit scalar
quantised codes, memory-mapped), which proposes candidate maps by their best regions; the backend
then scores those maps exactly from the stored float32 regions (docs/regions.md "Scale").

It is built by streaming the ``regions`` table (the float32 region matrix is never held whole),
covers the maps as of one change ``seq`` (later changes are the exact tail), and lives beside the
SQLite file like the whole-map vector index, named by a token the SQLite meta records."""

from __future__ import annotations

import json
import math
import secrets
import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from indexer.backends.embedded_schema import get_meta
from indexer.backends.vector_index import open_mapped

SUFFIX = ".rix"
META_KEY = "region_index"
# Lists probed for an unfiltered top 10, scaled by √(k/10): 36 for the default window of 200.
# On synthetic clustered vectors at 100,000 maps with lists as long as √n gives at 562,842 maps
# (3,148 regions), base 4, 8 and 16 all gave recall@10 1.0 of maps, 8 at p50 99 ms and 16 at
# 156 ms (docs/benchmarks.md "Regions"): each map is also a candidate by its whole vector, and
# every candidate is rescored exactly, which makes up for regions the probes miss. Not measured
# on real CLIP region vectors (text queries sit apart from images: raise it if recall drops).
NPROBE_MIN = 8
# Never fewer lists than this: a small index (up to ~1,000 maps) is probed whole, so its answers
# are the exact ones (the conformance suite checks them against brute force).
PROBE_FLOOR = 32
# Below this fraction of maps passing the filters every list is probed (the bitmap selector skips
# other maps' codes without scoring them), so a selective filter still finds its best regions.
MIN_SELECTIVITY = 0.05
TRAIN_PER_LIST = 30
TRAIN_MAX = 200_000  # training vectors, at most (k-means cost grows with them, quality barely)
ADD_BATCH_MAPS = 2_000  # maps read from SQLite per add (≈ 70 MB of float32 at 17 regions each)
# Region hits asked of the index per wanted map: a map's regions crowd the top together.
DEPTH_PER_MAP = 1.5
MAX_DEPTH = 60_000


def index_path(database: Path, token: str) -> Path:
    """A region index file of one physical SQLite file (the token names the build)."""
    return Path(f"{database}{SUFFIX}.{token}")


def owner_path(database: Path, token: str) -> Path:
    """The owning docno of each indexed region, row by row (``.npy``, memory-mapped)."""
    return Path(f"{database}{SUFFIX}.{token}.owner.npy")


def list_count(rows: int) -> int:
    """IVF lists for ``rows`` region vectors: about √n (≈ 3,100 at 9.9 M), fewer than the
    whole-map index's 2·√n because assigning every region to its list is the build's main cost."""
    return max(1, min(int(math.sqrt(rows)), rows // 16 or 1))


@dataclass
class RegionIndex:
    """A faiss IVF-SQ8 index over region vectors (ids = row numbers) and each row's owning map,
    covering the maps as they were at change ``seq``."""

    token: str
    seq: int
    index: Any  # faiss.IndexIVFScalarQuantizer
    owner: np.ndarray  # (rows,) int32 docno of each indexed region
    maps: int  # maps with at least one indexed region

    _runs: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def regions(self) -> int:
        """How many region vectors the index holds."""
        return int(self.index.ntotal)

    def passing_rows(self, allowed: np.ndarray) -> np.ndarray:
        """(regions,) bool: the rows whose owner ``allowed`` (a mask over docnos) lets through.

        A map's regions are consecutive rows (the build adds maps in docno order), so this
        repeats one flag per map: ~10 ms at 9.9 M rows, where looking up every row's owner took
        200-300 ms per filtered query (measured at 562,842 maps)."""
        if self._runs is None:
            self._runs = _owner_runs(np.asarray(self.owner))
        run_docnos, run_lengths = self._runs
        if len(run_lengths) == 0 and len(self.owner):  # rows not grouped by map: look each up
            owners = np.asarray(self.owner)
            passing = np.zeros(len(owners), bool)
            inside = owners < len(allowed)
            passing[inside] = allowed[owners[inside]]
            return passing
        flags = np.zeros(len(run_docnos), bool)
        inside = run_docnos < len(allowed)
        flags[inside] = allowed[run_docnos[inside]]
        return np.repeat(flags, run_lengths)

    def candidate_maps(
        self, query: np.ndarray, maps: int, allowed: np.ndarray | None, selectivity: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """(docnos, approximate best-region cosine) of up to ``maps`` maps whose regions score
        best, best first; ``allowed`` (a bool mask over docnos, None = all) restricts the owners."""
        import faiss

        if self.regions == 0 or maps <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        per_map = self.regions / max(1, self.maps)
        depth = min(MAX_DEPTH, self.regions, max(1_000, math.ceil(maps * per_map * DEPTH_PER_MAP)))
        params = faiss.SearchParametersIVF()
        nlist = int(self.index.nlist)
        if selectivity < MIN_SELECTIVITY:
            params.nprobe = nlist
        else:
            # fewer allowed regions per list: probe more, but not 1/selectivity times more (a
            # filtered list still has its whole-map candidates, scored exactly)
            scale = math.sqrt(max(1.0, maps / 10) / selectivity)
            params.nprobe = min(nlist, max(PROBE_FLOOR, math.ceil(NPROBE_MIN * scale)))
        bits = None
        if allowed is not None:
            passing = self.passing_rows(allowed)
            bits = np.packbits(passing, bitorder="little")
            params.sel = faiss.IDSelectorBitmap(len(passing), faiss.swig_ptr(bits))
        scores, labels = self.index.search(query.reshape(1, -1), depth, params=params)
        del bits  # the selector read it during the search
        found = labels[0] >= 0
        owners, region_scores = self.owner[labels[0][found]].astype(np.int64), scores[0][found]
        # hits come best first: a map's first appearance is its best region
        docnos, first = np.unique(owners, return_index=True)
        order = np.argsort(first, kind="stable")[:maps]
        return docnos[order], region_scores[first[order]].astype(np.float32)


def _owner_runs(owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(docno, row count) of each run of equal owners when every map's rows form one run (owners
    ascending); empty arrays otherwise."""
    if len(owner) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    steps = np.diff(owner)
    if (steps < 0).any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.concatenate([[0], np.flatnonzero(steps) + 1])
    lengths = np.diff(np.concatenate([starts, [len(owner)]]))
    return owner[starts].astype(np.int64), lengths


def _stream(conn: sqlite3.Connection, seq: int, docnos: np.ndarray) -> Iterator[tuple[int, bytes]]:
    """(docno, float32 vectors blob) of these maps' stored regions, unchanged since ``seq``."""
    sql = (
        "SELECT r.docno, r.vectors FROM regions r JOIN docs d ON d.docno = r.docno "
        "WHERE d.deleted = 0 AND d.seq <= ? AND r.count > 0 AND r.docno IN ({}) "
        "ORDER BY r.docno"
    )
    for start in range(0, len(docnos), ADD_BATCH_MAPS):
        part = docnos[start : start + ADD_BATCH_MAPS].tolist()
        yield from conn.execute(sql.format(",".join("?" * len(part))), (seq, *part))


def _matrix(rows: list[tuple[int, bytes]], dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Stacked region vectors of streamed rows and each region's owner."""
    blocks = [np.frombuffer(blob, dtype="<f4").reshape(-1, dims) for _, blob in rows]
    owners = [
        np.full(len(block), docno, np.int32) for (docno, _), block in zip(rows, blocks, strict=True)
    ]
    if not blocks:
        return np.zeros((0, dims), np.float32), np.zeros(0, np.int32)
    return np.ascontiguousarray(np.concatenate(blocks), np.float32), np.concatenate(owners)


@dataclass
class Built:
    """A region index written to its temporary file (its owner array already in place)."""

    token: str
    seq: int
    maps: int
    regions: int
    temporary: Path


def build(conn: sqlite3.Connection, seq: int, dims: int, database: Path, seed: int = 0) -> Built:
    """Train an IVF-SQ8 index (inner product) on the regions of sampled maps, then write it over
    every live map's regions as of ``seq`` (the caller holds one read transaction) to its
    temporary file beside ``database``, with its owner array; returns what to publish.

    The codes are never held in memory: a first streaming pass assigns and encodes
    ``ADD_BATCH_MAPS`` maps at a time into a scratch file, a second lays them out list by list in
    the index file (faiss's own layout, so the file maps like one it wrote). Filling faiss's
    in-memory lists instead grew each list by doubling: ~1.8x the 5 GB of codes at 562,842 maps."""
    import faiss

    counted = conn.execute(
        "SELECT r.docno, r.count FROM regions r JOIN docs d ON d.docno = r.docno "
        "WHERE d.deleted = 0 AND d.seq <= ? AND r.count > 0 ORDER BY r.docno",
        (seq,),
    ).fetchall()
    docnos = np.array([row[0] for row in counted], np.int64)
    counts = np.array([row[1] for row in counted], np.int64)
    total = int(counts.sum())
    nlist = list_count(max(1, total))
    quantizer = faiss.IndexFlatIP(dims)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dims, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    if total == 0:
        index.train(np.zeros((max(1, nlist), dims), np.float32))
    else:  # train on the regions of randomly chosen maps (whole maps: read once)
        rng = np.random.default_rng(seed)
        wanted = min(total, TRAIN_MAX, TRAIN_PER_LIST * nlist)
        order = rng.permutation(len(docnos))
        picked = order[: np.searchsorted(np.cumsum(counts[order]), wanted) + 1]
        sample, _ = _matrix(list(_stream(conn, seq, np.sort(docnos[picked]))), dims)
        index.train(sample)
        del sample
    token = secrets.token_hex(16)
    target = index_path(database, token)
    scratch = target.with_name(f"{target.name}.codes.tmp")
    owner = np.zeros(total, np.int32)
    list_of = np.zeros(total, np.int32)
    try:
        added = _encode_to(scratch, index, conn, seq, docnos, dims, owner, list_of)
        owner, list_of = owner[:added], list_of[:added]
        temporary = target.with_name(f"{target.name}.tmp")
        _write_lists(temporary, index, scratch, list_of)
    finally:
        scratch.unlink(missing_ok=True)
    np.save(owner_path(database, token), owner)
    return Built(token=token, seq=seq, maps=len(docnos), regions=added, temporary=temporary)


def _encode_to(
    scratch: Path,
    index: Any,
    conn: sqlite3.Connection,
    seq: int,
    docnos: np.ndarray,
    dims: int,
    owner: np.ndarray,
    list_of: np.ndarray,
) -> int:
    """Stream the maps' regions: each one's list (nearest centroid) and owner into the arrays, its
    8-bit code (relative to that centroid) appended to ``scratch``; returns how many."""
    import faiss

    added = 0
    with scratch.open("wb") as out:

        def encode(rows: list[tuple[int, bytes]]) -> int:
            vectors, owners = _matrix(rows, dims)
            _, nearest = index.quantizer.search(vectors, 1)
            lists = np.ascontiguousarray(nearest[:, 0], np.int64)
            codes = np.empty((len(vectors), index.code_size), np.uint8)
            index.encode_vectors(
                len(vectors), faiss.swig_ptr(vectors), faiss.swig_ptr(lists),
                faiss.swig_ptr(codes), False,
            )  # fmt: skip
            out.write(codes.tobytes())
            owner[added : added + len(vectors)] = owners
            list_of[added : added + len(vectors)] = lists
            return len(vectors)

        batch: list[tuple[int, bytes]] = []
        for row in _stream(conn, seq, docnos):
            batch.append(row)
            if len(batch) >= ADD_BATCH_MAPS:
                added += encode(batch)
                batch = []
        if batch:
            added += encode(batch)
    return added


# Codes gathered in memory at a time when laying the lists out (one sequential read of the
# scratch file per group: 10 reads of 5 GB at 562,842 maps), read LAYOUT_READ_ROWS rows at a time.
LAYOUT_BYTES = 512 << 20
LAYOUT_READ_ROWS = 65_536
# faiss ends an index with its inverted lists; an empty ArrayInvertedLists is written as these
# fields (fourcc, nlist, code size, "sprs" and an empty list of sizes)
_LISTS_FOURCC = b"ilar"


def _write_lists(path: Path, index: Any, scratch: Path, list_of: np.ndarray) -> None:
    """Write ``index`` (trained, no vectors yet) holding the scratch file's codes: its header as
    faiss serialises it, then the lists in faiss's "full" layout (every list's size, then each
    list's codes followed by its ids, the region row numbers).

    The lists are gathered a group at a time (``LAYOUT_BYTES`` of codes) by reading the scratch
    file sequentially once per group: a list's codes lie spread over the whole file, and picking
    them out row by row would read it at random, a seek a code once the file is not cached."""
    import faiss

    code_size, nlist, total = int(index.code_size), int(index.nlist), len(list_of)
    index.ntotal = total
    serialised = faiss.serialize_index(index).tobytes()
    index.ntotal = 0
    empty = _LISTS_FOURCC + struct.pack("<QQ", nlist, code_size) + b"sprs" + struct.pack("<Q", 0)
    if not serialised.endswith(empty):
        raise RuntimeError("faiss wrote the index's lists in a layout this build does not know")
    sizes = np.bincount(list_of, minlength=nlist).astype("<u8")
    rows = np.argsort(list_of, kind="stable")  # row numbers list by list, ascending within one
    place = np.empty(total, np.int64)  # each row's position in that order
    place[rows] = np.arange(total)
    ends = np.cumsum(sizes.astype(np.int64))
    with path.open("wb") as out, scratch.open("rb") as codes:
        out.write(serialised[: -len(empty)])
        out.write(_LISTS_FOURCC + struct.pack("<QQ", nlist, code_size) + b"full")
        out.write(struct.pack("<Q", nlist) + sizes.tobytes())
        first = 0  # the group's first list
        while first < nlist:
            low = int(ends[first - 1]) if first else 0
            last = int(np.searchsorted(ends, low + LAYOUT_BYTES // code_size, side="right"))
            last = max(first + 1, last)
            last = min(last, nlist)
            high = int(ends[last - 1])
            group = np.empty((high - low, code_size), np.uint8)
            codes.seek(0)
            for start in range(0, total, LAYOUT_READ_ROWS):
                block = np.frombuffer(codes.read(LAYOUT_READ_ROWS * code_size), np.uint8)
                block = block.reshape(-1, code_size)
                target = place[start : start + len(block)]
                inside = (target >= low) & (target < high)
                group[target[inside] - low] = block[inside]
            for number in range(first, last):
                begin, finish = (int(ends[number - 1]) if number else 0), int(ends[number])
                if finish > begin:
                    out.write(group[begin - low : finish - low].tobytes())
                    out.write(rows[begin:finish].astype("<i8").tobytes())
            first = last


def publication(built: Built, database: Path) -> tuple[str, Path, str]:
    """(temporary index path, the path to publish it at, the meta value naming it), for
    ``embedded_snapshot.publish``."""
    described = json.dumps({"token": built.token, "seq": built.seq, "maps": built.maps})
    return str(built.temporary), index_path(database, built.token), described


def drop_others(database: Path, keep: str) -> None:
    """Remove this file's older region index files (processes that mapped them keep their inode)."""
    for path in database.parent.glob(f"{database.name}{SUFFIX}.*"):
        if not path.name.startswith(index_path(database, keep).name) and path.suffix != ".lock":
            path.unlink(missing_ok=True)


def read_index_file(built: Built, database: Path) -> RegionIndex:
    """A freshly built index, memory-mapped from the file it was published at."""
    path = index_path(database, built.token)
    index = open_mapped(path)
    owner = np.load(owner_path(database, built.token), mmap_mode="r")
    return RegionIndex(token=built.token, seq=built.seq, index=index, owner=owner, maps=built.maps)


def read_index(conn: sqlite3.Connection, database: Path) -> RegionIndex | None:
    """The region index this SQLite file's meta names, memory-mapped (pages shared between
    processes; a query touches only the lists it probes); None when there is none usable."""
    try:
        described = json.loads(get_meta(conn, META_KEY) or "null")
        if not isinstance(described, dict):
            return None
        token, seq, maps = str(described["token"]), int(described["seq"]), int(described["maps"])
    except (ValueError, KeyError, TypeError):
        return None
    path, owners = index_path(database, token), owner_path(database, token)
    if seq > int(get_meta(conn, "seq") or 0) or not path.exists() or not owners.exists():
        return None
    try:
        index = open_mapped(path)
        owner = np.load(owners, mmap_mode="r")
    except (RuntimeError, OSError, ValueError):
        return None
    if len(owner) != index.ntotal:
        return None
    return RegionIndex(token=token, seq=seq, index=index, owner=owner, maps=maps)
