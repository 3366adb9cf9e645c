"""The embedded backend's in-memory columns: one float32 vector matrix plus filter/facet arrays,
all indexed by ``docno``, so filters are numpy masks and facet counts are ``np.bincount``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from indexer.backends.base import Filters
from indexer.backends.embedded_regions import RegionColumns
from indexer.backends.embedded_schema import MULTI_FIELDS, SEPARATOR
from indexer.search_surface import DECADE, FACETS_BY_NAME, TERMS_FACETS

# A result set smaller than 1/SMALL_RESULT of the index counts facets from its own rows.
SMALL_RESULT = 20


@dataclass
class _Pairs:
    """(docno, value id) pairs of one multi-valued field, plus its vocabulary."""

    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    vals: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    vocab: dict[str, int] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)

    _csr: tuple[np.ndarray, np.ndarray] | None = None  # (indptr by docno, values sorted by docno)

    def values_of(self, docnos: np.ndarray, size: int) -> np.ndarray:
        """Value ids of these documents (with repeats), via a CSR view built once per change."""
        if self._csr is None:
            order = np.argsort(self.rows, kind="stable")
            indptr = np.searchsorted(self.rows[order], np.arange(size + 1))
            self._csr = (indptr, self.vals[order])
        indptr, sorted_vals = self._csr
        starts, lengths = indptr[docnos], indptr[docnos + 1] - indptr[docnos]
        total = int(lengths.sum())
        positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        return sorted_vals[positions]

    def value_id(self, value: str) -> int:
        found = self.vocab.get(value)
        if found is None:
            found = self.vocab[value] = len(self.values)
            self.values.append(value)
        return found


def _grow(array: np.ndarray, size: int, fill: object = 0) -> np.ndarray:
    if len(array) >= size:
        return array
    grown = np.full((size, *array.shape[1:]), fill, dtype=array.dtype)
    grown[: len(array)] = array
    return grown


def _lon_intervals(
    west: np.ndarray, east: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split antimeridian-crossing boxes (west > east) into two ordinary longitude intervals."""
    crosses = west > east
    a_lo, a_hi = west, np.where(crosses, 180.0, east)
    b_lo, b_hi = np.where(crosses, -180.0, np.inf), np.where(crosses, east, -np.inf)
    return a_lo, a_hi, b_lo, b_hi


class Columns:
    """Everything a search touches, in memory; updated from changed rows by ``apply``."""

    def __init__(self) -> None:
        self.size = 0  # max docno + 1
        self.seq = 0  # highest change sequence applied
        self.alive = np.zeros(0, bool)
        self.has_vector = np.zeros(0, bool)
        self.dated = np.zeros(0, bool)
        self.year_start = np.zeros(0, np.int32)
        self.year_end = np.zeros(0, np.int32)
        self.row_seq = np.zeros(0, np.int64)  # the change seq that last wrote each docno
        self.has_image = np.zeros(0, bool)
        self.has_extent = np.zeros(0, bool)
        self.extent = np.zeros((0, 4), np.float64)  # west, south, east, north
        self.vectors: np.ndarray | None = None  # (capacity, dims) float32
        self.ids: list[str] = []
        self.item_ids: list[str] = []
        self.titles: list[str] = []
        self.docno_of: dict[str, int] = {}
        self.pairs: dict[str, _Pairs] = {name: _Pairs() for name in MULTI_FIELDS}
        self.regions = RegionColumns()  # region vectors, owned by docnos (embedded_regions)
        self._id_rank: np.ndarray | None = None
        self._title_rank: np.ndarray | None = None
        # The columns snapshot file these arrays were mapped from (embedded_snapshot), and how
        # many rows changed since: a new snapshot is due when that grows large.
        self.snapshot_token: str | None = None
        self.snapshot_seq = 0
        self.changed_since_snapshot = 0

    # ---- loading -------------------------------------------------------------------------

    def reserve(self, size: int, dims: int | None) -> None:
        """Make room for docnos below ``size`` (grows by 25% to amortise reallocation)."""
        if size > len(self.alive):
            capacity = max(size, int(len(self.alive) * 1.25))
            self.alive = _grow(self.alive, capacity, False)
            self.has_vector = _grow(self.has_vector, capacity, False)
            self.dated = _grow(self.dated, capacity, False)
            self.year_start = _grow(self.year_start, capacity)
            self.year_end = _grow(self.year_end, capacity)
            self.row_seq = _grow(self.row_seq, capacity)
            self.has_image = _grow(self.has_image, capacity, False)
            self.has_extent = _grow(self.has_extent, capacity, False)
            self.extent = _grow(self.extent, capacity, 0.0)
            grow_lists = capacity - len(self.ids)
            self.ids.extend([""] * grow_lists)
            self.item_ids.extend([""] * grow_lists)
            self.titles.extend([""] * grow_lists)
        if dims is not None and (self.vectors is None or self.vectors.shape[1] != dims):
            self.vectors = np.zeros((len(self.alive), dims), np.float32)
            self.has_vector[:] = False
        if self.vectors is not None and len(self.vectors) < len(self.alive):
            self.vectors = _grow(self.vectors, len(self.alive))
        self.size = max(self.size, size)

    def apply_rows(self, rows: Sequence[Sequence[Any]], replace: bool = True) -> None:
        """Apply changed ``docs`` rows (columns as ``MEMORY_COLUMNS``), column by column.

        ``replace=False`` (a first full load, in chunks) skips dropping the rows' old facet values.
        """
        if not rows:
            return
        docnos = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        deleted = np.fromiter((bool(r[2]) for r in rows), bool, len(rows))
        live = ~deleted
        for docno, row, is_deleted in zip(docnos.tolist(), rows, deleted.tolist(), strict=True):
            old_id = self.ids[docno]
            if old_id and self.docno_of.get(old_id) == docno:
                del self.docno_of[old_id]
            if is_deleted:
                self.ids[docno] = ""
                continue
            self.ids[docno], self.item_ids[docno], self.titles[docno] = row[1], row[3], row[4]
            self.docno_of[row[1]] = docno
        self.alive[docnos] = live
        self.has_vector[docnos] = False
        year_start = [r[5] for r in rows]
        self.dated[docnos] = (
            np.fromiter((y is not None for y in year_start), bool, len(rows)) & live
        )
        self.year_start[docnos] = np.fromiter((y or 0 for y in year_start), np.int32, len(rows))
        self.year_end[docnos] = np.fromiter((r[6] or 0 for r in rows), np.int32, len(rows))
        self.row_seq[docnos] = np.fromiter((r[-1] for r in rows), np.int64, len(rows))
        self.has_image[docnos] = np.fromiter((bool(r[7]) for r in rows), bool, len(rows)) & live
        has_extent = np.fromiter((r[8] is not None for r in rows), bool, len(rows)) & live
        self.has_extent[docnos] = has_extent
        if has_extent.any():
            with_extent = [r[8:12] for r, e in zip(rows, has_extent.tolist(), strict=True) if e]
            self.extent[docnos[has_extent]] = np.array(with_extent, np.float64)
        for offset, name in enumerate(MULTI_FIELDS):
            self._apply_pairs(
                name, docnos, [r[12 + offset] if not r[2] else "" for r in rows], replace
            )
        self._id_rank = self._title_rank = None

    def _apply_pairs(self, name: str, docnos: np.ndarray, joined: list[str], replace: bool) -> None:
        pairs = self.pairs[name]
        # One split over all rows and C-level dict lookups: loading 562k documents stays fast.
        present = [
            (docno, text) for docno, text in zip(docnos.tolist(), joined, strict=True) if text
        ]
        values = SEPARATOR.join(text for _, text in present).split(SEPARATOR) if present else []
        for value in dict.fromkeys(values):
            if value not in pairs.vocab:
                pairs.value_id(value)
        counts = [text.count(SEPARATOR) + 1 for _, text in present]
        new_rows = np.repeat(np.array([docno for docno, _ in present], np.int32), counts)
        new_vals = np.array(list(map(pairs.vocab.__getitem__, values)), np.int32)
        if replace and len(pairs.rows):
            keep = ~np.isin(pairs.rows, docnos)
            pairs.rows, pairs.vals = pairs.rows[keep], pairs.vals[keep]
        pairs.rows = np.concatenate([pairs.rows, new_rows])
        pairs.vals = np.concatenate([pairs.vals, new_vals])
        pairs._csr = None

    def apply_vectors(self, rows: Sequence[tuple[int, bytes]]) -> None:
        """Store documents' vectors (their rows were applied before)."""
        assert self.vectors is not None
        docnos = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        self.vectors[docnos] = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(
            len(rows), -1
        )
        self.has_vector[docnos] = self.alive[docnos]

    # ---- filters -------------------------------------------------------------------------

    def filter_mask(self, filters: Filters) -> np.ndarray:
        """Live documents passing every filter (bool array of length ``size``)."""
        n = self.size
        mask = self.alive[:n].copy()
        if filters.year_from is not None or filters.year_to is not None:
            mask &= self.dated[:n]
            if filters.year_from is not None:
                mask &= self.year_end[:n] >= filters.year_from
            if filters.year_to is not None:
                mask &= self.year_start[:n] <= filters.year_to
        if filters.has_image is not None:
            mask &= self.has_image[:n] == filters.has_image
        if filters.bbox is not None:
            mask &= self._bbox_mask(filters.bbox)
        for facet in TERMS_FACETS:
            wanted = filters.terms.get(facet.name, ())
            if wanted:
                mask &= self._values_mask(facet.field, wanted)
        if filters.ids:
            id_mask = np.zeros(n, bool)
            docnos = [self.docno_of[i] for i in filters.ids if i in self.docno_of]
            id_mask[np.array(docnos, np.int64)] = True
            mask &= id_mask
        return mask

    def _values_mask(self, column: str, wanted: Sequence[str]) -> np.ndarray:
        pairs = self.pairs[column]
        value_ids = [pairs.vocab[v] for v in wanted if v in pairs.vocab]
        mask = np.zeros(self.size, bool)
        if value_ids:
            mask[pairs.rows[np.isin(pairs.vals, value_ids)]] = True
        return mask

    def _bbox_mask(self, bbox: tuple[float, float, float, float]) -> np.ndarray:
        n = self.size
        west, south, east, north = bbox
        ext = self.extent[:n]
        lat_ok = (ext[:, 1] <= north) & (ext[:, 3] >= south)
        doc_a_lo, doc_a_hi, doc_b_lo, doc_b_hi = _lon_intervals(ext[:, 0], ext[:, 2])
        query_intervals = [(west, east)] if west <= east else [(west, 180.0), (-180.0, east)]
        lon_ok = np.zeros(n, bool)
        for doc_lo, doc_hi in ((doc_a_lo, doc_a_hi), (doc_b_lo, doc_b_hi)):
            for q_lo, q_hi in query_intervals:
                lon_ok |= (doc_lo <= q_hi) & (doc_hi >= q_lo)
        return self.has_extent[:n] & lat_ok & lon_ok

    # ---- facets --------------------------------------------------------------------------

    def facet_counts(self, name: str, result: np.ndarray, size: int) -> list[tuple[str, int]]:
        """Buckets of one facet over the result set (bool mask), count desc then value asc."""
        facet = FACETS_BY_NAME.get(name)
        kind = facet.kind if facet is not None else None
        if facet is not None and kind == "terms":
            pairs = self.pairs[facet.field]
            members = np.flatnonzero(result)
            if len(members) * SMALL_RESULT < self.size:  # few documents: look up just theirs
                values = pairs.values_of(members, self.size)
            else:
                values = pairs.vals[result[pairs.rows]] if len(pairs.rows) else pairs.vals
            counts = np.bincount(values, minlength=len(pairs.values))
            present = np.flatnonzero(counts)
            if len(present) > size:  # only values tying with the size-th count can make the cut
                kth = np.partition(counts[present], len(present) - size)[len(present) - size]
                present = present[counts[present] >= kth]
            buckets = [
                (pairs.values[i], c)
                for i, c in zip(present.tolist(), counts[present].tolist(), strict=True)
            ]
        elif kind == "decade":
            years = self.year_start[: self.size][result & self.dated[: self.size]]
            decades, counts = np.unique((years // DECADE) * DECADE, return_counts=True)
            buckets = [(str(int(d)), int(c)) for d, c in zip(decades, counts, strict=True)]
        elif kind == "flag":
            with_image = int(np.count_nonzero(result & self.has_image[: self.size]))
            buckets = [("true", with_image), ("false", int(np.count_nonzero(result)) - with_image)]
            buckets = [b for b in buckets if b[1]]
        else:
            raise ValueError(f"unknown facet {name!r}")
        buckets.sort(key=lambda b: (-b[1], b[0]))
        return buckets[:size]

    # ---- ordering ------------------------------------------------------------------------

    def top_k(self, docnos: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The k best (docno, score), score desc then id asc; exact, ties included."""
        if len(docnos) > k:
            kth = np.partition(scores, len(scores) - k)[len(scores) - k]
            keep = scores >= kth
            docnos, scores = docnos[keep], scores[keep]
        ranked = sorted(
            zip(docnos.tolist(), scores.tolist(), strict=True),
            key=lambda p: (-p[1], self.ids[p[0]]),
        )
        return ranked[:k]

    def id_rank(self) -> np.ndarray:
        """Position of each docno in id order (cached until the next change)."""
        if self._id_rank is None:
            order = sorted(range(self.size), key=self.ids.__getitem__)
            self._id_rank = np.empty(self.size, np.int64)
            self._id_rank[np.array(order, np.int64)] = np.arange(self.size)
        return self._id_rank

    def title_rank(self) -> np.ndarray:
        """Position of each docno in (case-folded title,
        id) order (cached until the next change)."""
        if self._title_rank is None:
            order = sorted(range(self.size), key=lambda d: (self.titles[d].casefold(), self.ids[d]))
            self._title_rank = np.empty(self.size, np.int64)
            self._title_rank[np.array(order, np.int64)] = np.arange(self.size)
        return self._title_rank

    def browse_order(self, docnos: np.ndarray, sort: str) -> np.ndarray:
        """``docnos`` ordered for browsing: by title, or by year (undated last), ties by id."""
        if sort in ("year", "-year"):
            years = self.year_start[docnos].astype(np.int64)
            undated = ~self.dated[docnos]
            year_key = years if sort == "year" else -years
            order = np.lexsort((self.id_rank()[docnos], year_key, undated))
        else:
            order = np.argsort(self.title_rank()[docnos], kind="stable")
        return docnos[order]
