"""The embedded backend: one SQLite file (WAL: one writer, many readers, durable) with FTS5 BM25,
and exact cosine search over every stored vector held in memory as one float32 matrix."""

from __future__ import annotations

import dataclasses
import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import numpy as np
from more_itertools import chunked

from indexer.analysis import keyword_terms
from indexer.backends import embedded_alias, embedded_regions, region_index
from indexer.backends.base import (
    BackendError,
    BackendQuery,
    BackendResult,
    IndexInfo,
    ListHit,
    ModelMismatchError,
    RegionMatch,
    WriteReport,
)
from indexer.backends.embedded_columns import Columns
from indexer.backends.embedded_faults import begin_failure, storage_fault, write_transaction
from indexer.backends.embedded_found_in import FoundInSets, found_in_sets
from indexer.backends.embedded_map_terms import listed, record_map_terms
from indexer.backends.embedded_regions import (
    RegionColumns,
    StoredRegionReader,
    StoredScores,
    read_regions,
    region_set,
    stored_best,
    write_regions,
)
from indexer.backends.embedded_schema import (
    FTS_COLUMNS,
    FTS_WEIGHTS,
    MEMORY_COLUMNS,
    DocRow,
    connect,
    doc_to_row,
    fts_text,
    get_meta,
    record_from_blob,
    set_meta,
)
from indexer.backends.embedded_snapshot import open_snapshot, publish, snapshot_path, write_snapshot
from indexer.backends.region_matches import REGIONS_PER_HIT
from indexer.backends.vector_index import META_KEY as INDEX_META_KEY
from indexer.backends.vector_index import (
    RERANK_MIN,
    STALE_FRACTION,
    PlannerLimits,
    VectorIndex,
    build,
    build_lock,
    choose_path,
    drop_others,
    read_index,
    write_index,
)
from indexer.backends.vector_kernel import exact_top, gathered_scores, top_positions
from indexer.fuzzy import FUZZY_MIN_LENGTH, one_edit_variants
from indexer.records import IndexDocument, MapRecord
from indexer.region_set import RegionSet
from indexer.search_surface import FOUND_IN, MAP_TEXT_FIELD
from indexer.settings import Settings

WRITE_BATCH = 1000

LOAD_CHUNK = 20_000
KEYWORD_CHUNK = 50_000  # scored matches converted to numpy at a time
# The quantised scan keeps this many times the first rescoring's codes, so rescoring more of them
# rarely needs a second scan.
QUANTISED_SCAN_DEPTH = 2
# Columns snapshots (embedded_snapshot) pay off from this many documents; a new one is written
# when more than this fraction of the rows (or the minimum) changed since the last.
SNAPSHOT_MIN_ROWS = 20_000
SNAPSHOT_STALE_FRACTION = 0.1
SNAPSHOT_RETRY_S = 600.0  # after a snapshot could not be written or published
# Without a usable vector index, look for one (another process may have built it) this often.
INDEX_RETRY_S = 30.0
# Fewer maps than this fraction passing the filters (and unchanged since the region index): the
# region index search skips the others by a bitmap rather than dropping them afterwards.
SELECTOR_FRACTION = 0.9
_BM25_WEIGHTS = ", ".join(str(FTS_WEIGHTS[c]) for c in FTS_COLUMNS)
FTS_LIST = ", ".join(FTS_COLUMNS)
# Letters a one-edit variant may insert or substitute (folded terms are mostly ASCII; the
# query term's own letters are added to these).
_VARIANT_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
FTS_MARKS = ", ?" * len(FTS_COLUMNS)
_MAP_TEXT_AT = 1 + FTS_COLUMNS.index(MAP_TEXT_FIELD)  # in an FTS insert row (rowid first)


def fts_match_expression(
    text: str | None, map_variants: Callable[[str], list[str]] | None = None
) -> str | None:
    """An FTS5 MATCH expression requiring every keyword token; None when there are no tokens.
    ``map_variants(token)``: other words of the map text within one edit, also accepted there.

    Every token is a quoted string of word characters, so user syntax never reaches FTS5.
    """
    tokens = keyword_terms(text)
    return " ".join(_token_expression(token, map_variants) for token in tokens) or None


def _token_expression(token: str, map_variants: Callable[[str], list[str]] | None) -> str:
    variants = map_variants(token) if map_variants is not None else []
    if not variants:
        return f'"{token}"'
    either = " OR ".join(f'"{variant}"' for variant in variants)
    return f'("{token}" OR {MAP_TEXT_FIELD} : ({either}))'


_Read = TypeVar("_Read")


def _in_snapshot(
    conn: sqlite3.Connection,
    read: Callable[[sqlite3.Connection, Path], _Read],
    database: Path,
) -> _Read:
    """``read(conn, database)`` in one read snapshot of the file: its own transaction, or the
    caller's when ``conn`` is already in one (inside ``writes_frozen``)."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        return read(conn, database)
    finally:
        if own:
            conn.execute("COMMIT")


class EmbeddedBackend:
    """SQLite + numpy implementation of ``SearchBackend``
    (thread-safe; one instance per process)."""

    name = "embedded"

    def __init__(
        self,
        path: Path,
        alias: Path | None = None,
        busy_timeout: float = 30.0,
        snapshot_min_rows: int = SNAPSHOT_MIN_ROWS,
        planner: PlannerLimits | None = None,
        index_in_background: bool = True,
    ) -> None:
        """Open ``path``; with ``alias``, follow its pointer file (``embedded_alias``) from now on;
        a write waits ``busy_timeout`` seconds for another process's write lock; indexes of at least
        ``snapshot_min_rows`` documents keep a memory-mapped columns snapshot (fast open), and from
        ``planner.min_rows`` a vector index (built on a thread unless ``index_in_background`` is
        False)."""
        self._snapshot_min_rows = snapshot_min_rows
        self._snapshot_retry_at = 0.0
        self._planner = planner or PlannerLimits()
        self._index_in_background = index_in_background
        self._vector_index: VectorIndex | None = None
        self._index_thread: threading.Thread | None = None
        self._region_index: region_index.RegionIndex | None = None
        self._region_thread: threading.Thread | None = None
        self._region_reader: StoredRegionReader | None = None
        self._region_checked: tuple[int, float] = (-1, 0.0)
        self._index_checked: tuple[int, float] = (-1, 0.0)  # (seq, monotonic time) of the last look
        self.last_semantic_path = ""  # "exact" or "index": which path served the last semantic list
        self._count_cache: tuple[object, int] = (None, 0)
        self._coverage_cache: tuple[object, np.ndarray, np.ndarray] | None = None
        self._alias = alias
        self._pointer = embedded_alias.pointer_stamp(alias) if alias is not None else None
        self._busy_timeout = busy_timeout
        self._conn = self._connect(path, busy_timeout)
        self.path = path
        self._lock = threading.RLock()
        self._columns = Columns()
        self._data_version: int | None = None
        self._stale = True
        # docno → (whole, best region, region rank, best regions) of the last semantic list
        self._region_parts: dict[int, tuple[float, float | None, int | None, tuple]] = {}

    @staticmethod
    def _connect(path: Path, busy_timeout: float = 30.0) -> sqlite3.Connection:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return connect(str(path), busy_timeout)
        except sqlite3.Error as exc:
            fault = storage_fault(exc, path)  # opening writes the schema: locked, read-only...
            if fault is not None:
                raise fault from exc
            raise BackendError(f"cannot open the embedded index at {path}: {exc}") from exc
        except OSError as exc:
            raise BackendError(f"cannot open the embedded index at {path}: {exc}") from exc

    @classmethod
    def open(cls, settings: Settings) -> EmbeddedBackend:
        """Open (creating if needed) the physical file behind the alias
        ``settings.embedded_path``."""
        alias = settings.embedded_path
        return cls(
            embedded_alias.resolve(alias), alias=alias, busy_timeout=settings.sqlite_busy_timeout
        )

    def _follow_alias(self) -> None:
        """Reopen on the new physical file when a reindex swapped the alias (one stat per call).

        Called with the lock held, so no search is midway on the old connection."""
        if self._alias is None:
            return
        stamp = embedded_alias.pointer_stamp(self._alias)
        if stamp == self._pointer:
            return
        target = embedded_alias.resolve(self._alias)
        if target != self.path:
            conn = self._connect(target, self._busy_timeout)
            self._conn.close()
            self._conn, self.path = conn, target
            self._columns, self._data_version, self._stale = Columns(), None, True
            self._vector_index = self._region_index = None
        self._pointer = stamp

    # ---- writes --------------------------------------------------------------------------

    def write(self, docs: Iterable[IndexDocument]) -> WriteReport:
        """Upsert documents; a lower ``record.revision`` than the stored one is skipped as stale.

        Raises ModelMismatchError (before writing the batch) for vectors of another model/dims.
        """
        report = WriteReport()
        for chunk in chunked(docs, WRITE_BATCH):
            rows = self._rows_of(chunk, report)
            with self._lock:
                self._write_rows(rows, chunk, report)
                self._stale = True
        return report

    def _begin_write(self) -> sqlite3.Connection:
        """Take the file's write lock on the file the alias names *now*.

        A reindex holds the old file's write lock while it copies the last changes and swaps the
        pointer; a writer that waited for that lock must write to the new file, not the old one."""
        while True:
            self._follow_alias()
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise begin_failure(exc, self.path) from exc
            if self._alias is None or embedded_alias.pointer_stamp(self._alias) == self._pointer:
                return self._conn
            self._conn.execute("ROLLBACK")

    def _rows_of(self, chunk: list[IndexDocument], report: WriteReport) -> list[DocRow | None]:
        rows: list[DocRow | None] = []
        for doc in chunk:
            try:
                if doc.vector is not None:
                    vector = np.asarray(doc.vector)
                    if vector.ndim != 1 or not np.all(np.isfinite(vector)):
                        raise ValueError("vector must be one finite 1-d array")
                    if not doc.model_id:
                        raise ValueError("vector without model_id")
                rows.append(doc_to_row(doc))
            except (ValueError, TypeError) as exc:
                rows.append(None)
                report.fail(doc.id, str(exc))
        return rows

    def _check_model(self, chunk: list[IndexDocument]) -> None:
        stored_model = get_meta(self._conn, "model_id")
        stored_dims = get_meta(self._conn, "dims")
        for doc in chunk:
            if doc.vector is None or not doc.model_id:
                continue
            dims = int(np.asarray(doc.vector).shape[-1])
            if stored_model is None:
                stored_model, stored_dims = doc.model_id, str(dims)
            if doc.model_id != stored_model or str(dims) != stored_dims:
                raise ModelMismatchError(
                    f"document {doc.id} has a {dims}-d vector of model {doc.model_id!r}; the index "
                    f"holds {stored_dims}-d vectors of {stored_model!r} (reindex to change models)"
                )

    def _write_rows(
        self, rows: list[DocRow | None], chunk: list[IndexDocument], report: WriteReport
    ) -> None:
        conn = self._begin_write()  # the write lock: docnos and seq below are ours until COMMIT
        with write_transaction(conn, self.path):
            self._check_model(chunk)
            stored = self._existing([row.values["id"] for row in rows if row is not None])
            accepted = self._accept(rows, stored, report)
            seq = int(get_meta(conn, "seq") or 0)
            next_docno = int(
                conn.execute("SELECT coalesce(max(docno), 0) + 1 FROM docs").fetchone()[0]
            )
            inserts, updates, fts_deletes, fts_inserts, records, vectors, no_vectors = (
                [],
                [],
                [],
                [],
                [],
                [],
                [],
            )
            region_writes: list[tuple[int, RegionSet | None]] = []
            for row in accepted:
                seq += 1
                values = {**row.values, "seq": seq, "deleted": 0}
                old = stored.get(str(row.values["id"]))
                if old is None:
                    docno, next_docno = next_docno, next_docno + 1
                    inserts.append([docno, *values.values()])
                else:
                    docno = old[0]
                    if not old[2]:
                        fts_deletes.append((docno, *old[3]))
                    updates.append([*values.values(), docno])
                    if row.vector is None:
                        no_vectors.append((docno,))
                fts_inserts.append((docno, *row.fts))
                records.append((docno, row.record))
                if row.vector is not None:
                    vectors.append((docno, row.vector))
                region_writes.append((docno, row.regions))
            if accepted:
                columns = ["docno", *accepted[0].values, "seq", "deleted"]
                marks = ", ".join("?" * len(columns))
                conn.executemany(
                    f"INSERT INTO docs({', '.join(columns)}) VALUES ({marks})", inserts
                )
                assignments = ", ".join(f"{c} = ?" for c in columns[1:])
                conn.executemany(f"UPDATE docs SET {assignments} WHERE docno = ?", updates)
                # External-content FTS5 forgets a row only when given the exact values it indexed.
                conn.executemany(
                    f"INSERT INTO fts(fts, rowid, {FTS_LIST}) VALUES ('delete', ?{FTS_MARKS})",
                    fts_deletes,
                )
                conn.executemany(
                    f"INSERT INTO fts(rowid, {FTS_LIST}) VALUES (?{FTS_MARKS})", fts_inserts
                )
                record_map_terms(conn, (str(row[_MAP_TEXT_AT]) for row in fts_inserts))
                conn.executemany(
                    "INSERT OR REPLACE INTO records(docno, record) VALUES (?, ?)", records
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO vectors(docno, vector) VALUES (?, ?)", vectors
                )
                conn.executemany("DELETE FROM vectors WHERE docno = ?", no_vectors)
                write_regions(conn, region_writes)
                self._record_model(chunk)
            set_meta(conn, "seq", str(seq))

    @staticmethod
    def _accept(
        rows: list[DocRow | None],
        stored: dict[str, tuple[int, int, int, tuple[str, ...]]],
        report: WriteReport,
    ) -> list[DocRow]:
        """The rows that win, one per id: a lower revision
        than stored (or earlier in the batch) loses."""
        winners: dict[str, DocRow] = {}
        for row in rows:
            if row is None:
                continue
            doc_id, revision = str(row.values["id"]), int(row.values["revision"])  # type: ignore[call-overload]
            earlier = winners.get(doc_id)
            old = stored.get(doc_id)
            if earlier is not None:
                floor = int(earlier.values["revision"])  # type: ignore[call-overload]
            elif old is not None and not old[2]:
                floor = old[1]
            else:
                floor = None
            if floor is not None and revision < floor:
                report.skipped_stale += 1
                continue
            winners[doc_id] = row
            report.written += 1
        return list(winners.values())

    def _record_model(self, chunk: list[IndexDocument]) -> None:
        if get_meta(self._conn, "model_id") is not None:
            return
        for doc in chunk:
            if doc.vector is not None and doc.model_id:
                set_meta(self._conn, "model_id", doc.model_id)
                set_meta(self._conn, "dims", str(np.asarray(doc.vector).shape[-1]))
                return

    def _existing(self, ids: list[object]) -> dict[str, tuple[int, int, int, tuple[str, ...]]]:
        """id → (docno, revision, deleted, indexed FTS text) of the stored rows among ``ids``."""
        found: dict[str, tuple[int, int, int, tuple[str, ...]]] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            sql = (
                "SELECT d.id, d.docno, d.revision, d.deleted, r.record FROM docs d "
                f"LEFT JOIN records r ON r.docno = d.docno WHERE d.id IN ({marks})"
            )
            for doc_id, docno, revision, deleted, blob in self._conn.execute(sql, part):
                text = (
                    ()
                    if deleted or blob is None
                    else fts_text(MapRecord.model_validate_json(record_from_blob(blob)))
                )
                found[doc_id] = (docno, revision, deleted, text)
        return found

    def _fts_delete(self, docno: int, old_fts: tuple[str, ...]) -> None:
        # External-content FTS5 forgets a row only when given the exact values it indexed.
        sql = (
            f"INSERT INTO fts(fts, rowid, {', '.join(FTS_COLUMNS)}) VALUES ('delete', "
            f"?{', ?' * len(FTS_COLUMNS)})"
        )
        self._conn.execute(sql, (docno, *old_fts))

    def delete(self, ids: Sequence[str]) -> int:
        """Remove documents (tombstoned so other processes
        see the delete); returns how many existed."""
        removed = 0
        with self._lock:
            conn = self._begin_write()
            with write_transaction(conn, self.path):
                existing = self._existing(list(ids))
                seq = int(get_meta(conn, "seq") or 0)
                for docno, _revision, deleted, fts in existing.values():
                    if deleted:
                        continue
                    seq += 1
                    self._fts_delete(docno, fts)
                    conn.execute(
                        "UPDATE docs SET deleted = 1, seq = ? WHERE docno = ?", (seq, docno)
                    )
                    conn.execute("DELETE FROM vectors WHERE docno = ?", (docno,))
                    conn.execute("DELETE FROM regions WHERE docno = ?", (docno,))
                    conn.execute("DELETE FROM records WHERE docno = ?", (docno,))
                    removed += 1
                set_meta(conn, "seq", str(seq))
            self._stale = True
        return removed

    # ---- keeping the in-memory columns current --------------------------------------------

    def _sync(self) -> Columns:
        """Apply rows changed since the last look (by this or any other process); a first look
        maps the columns snapshot when there is a usable one and applies only what came after."""
        data_version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        if not self._stale and data_version == self._data_version:
            return self._columns
        conn = self._conn
        conn.execute("BEGIN")  # one snapshot for rows and vectors
        try:
            seq = int(get_meta(conn, "seq") or 0)
            if seq < self._columns.seq:  # the file was rebuilt under us: start over
                self._columns = Columns()
                self._vector_index = self._region_index = None
            if self._columns.seq == 0 and seq > 0:
                self._columns = open_snapshot(conn, self.path) or self._columns
            columns = self._columns
            if seq != columns.seq:
                self._load_changes(conn, columns)
                columns.seq = seq
            self._place_regions(conn, columns, seq)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._data_version = data_version
        self._stale = False
        self._snapshot_if_due()
        return self._columns

    # ---- the vector index ----------------------------------------------------------------

    def _maintain_index(self, columns: Columns) -> None:
        """Load or (re)build the vector index when the collection is large enough and the index
        is missing or too far behind; at most one look per change, or per ``INDEX_RETRY_S``."""
        if columns.vectors is None or self._vector_count(columns) < max(1, self._planner.min_rows):
            return
        if self._index_thread is not None and self._index_thread.is_alive():
            return
        vector_index = self._vector_index
        now = time.monotonic()
        last_seq, last_time = self._index_checked
        if last_seq == columns.seq and (
            vector_index is not None or now - last_time < INDEX_RETRY_S
        ):
            return
        self._index_checked = (columns.seq, now)
        if self._current_enough(columns, vector_index):
            return
        if self._index_in_background:
            self._index_thread = threading.Thread(
                target=self._refresh_index, args=(columns, self.path), daemon=True
            )
            self._index_thread.start()
        else:
            self._refresh_index(columns, self.path)

    def _current_enough(
        self, columns: Columns, built: VectorIndex | region_index.RegionIndex | None
    ) -> bool:
        """Whether an index built at ``built.seq`` may serve: the rows written since (its exact
        tail) are few enough (the whole-map and the region index alike; None: no index)."""
        if built is None:
            return False
        behind = int(np.count_nonzero(columns.row_seq[: columns.size] > built.seq))
        return behind <= max(self._planner.tail_min, STALE_FRACTION * columns.size)

    def _refresh_index(self, columns: Columns, database: Path) -> None:
        """Load the index file when it is current enough, else build one (one process at a time,
        by a lock file) and publish it for the others."""
        try:
            conn = connect(str(database), self._busy_timeout)
        except sqlite3.Error:
            return
        try:
            loaded = _in_snapshot(conn, read_index, database)
            if loaded is not None and self._current_enough(columns, loaded):
                self._install_index(loaded, database)
                return
            with build_lock(database) as ours:
                if not ours:  # another process is building: use what is there meanwhile
                    if loaded is not None:
                        self._install_index(loaded, database)
                    return
                with self._lock:
                    seq, size = columns.seq, columns.size
                    has_vector = columns.has_vector[:size].copy()
                assert columns.vectors is not None
                built = build(columns.vectors, has_vector, seq)
                temporary, target, described = write_index(built, database)
                if publish(conn, temporary, target, described, INDEX_META_KEY):
                    drop_others(database, built.token)
                self._install_index(built, database)
        finally:
            conn.close()

    def _install_index(self, vector_index: VectorIndex, database: Path) -> None:
        with self._lock:
            current = self._vector_index
            if self.path == database and (current is None or vector_index.seq >= current.seq):
                self._vector_index = vector_index

    def _maintain_region_index(self, columns: Columns) -> None:
        """Load or (re)build the region index once regions are indexed (``_regions_indexed``) and
        it is missing or too far behind; at most one look per change, or per ``INDEX_RETRY_S``."""
        if not self._regions_indexed(columns) or columns.vectors is None:
            return
        if self._region_thread is not None and self._region_thread.is_alive():
            return
        current, now = self._region_index, time.monotonic()
        last_seq, last_time = self._region_checked
        if last_seq == columns.seq and (current is not None or now - last_time < INDEX_RETRY_S):
            return
        self._region_checked = (columns.seq, now)
        if self._current_enough(columns, current):
            return
        dims = int(columns.vectors.shape[1])
        if self._index_in_background:
            # A published index is mapped here and now (milliseconds): until one is installed
            # every query streams all the stored regions (minutes at 562,842 maps). Only a
            # build goes to the thread.
            loaded = self._published_region_index(columns, self.path)
            if loaded is not None:
                self._install_region_index(loaded, self.path)
                return
            self._region_thread = threading.Thread(
                target=self._refresh_region_index, args=(columns, self.path, dims), daemon=True
            )
            self._region_thread.start()
        else:
            self._refresh_region_index(columns, self.path, dims)

    def _refresh_region_index(self, columns: Columns, database: Path, dims: int) -> None:
        """Load the region index file when it is current enough, else build one by streaming the
        stored regions (one process at a time) and publish it for the others."""
        try:
            conn = connect(str(database), self._busy_timeout)
        except sqlite3.Error:
            return
        try:
            loaded = _in_snapshot(conn, region_index.read_index, database)
            if loaded is not None and self._current_enough(columns, loaded):
                self._install_region_index(loaded, database)
                return
            with build_lock(database, region_index.SUFFIX) as ours:
                if not ours:  # another process is building: use what is there meanwhile
                    if loaded is not None:
                        self._install_region_index(loaded, database)
                    return
                conn.execute("BEGIN")  # one snapshot of the regions for the whole build
                try:
                    seq = int(get_meta(conn, "seq") or 0)
                    built = region_index.build(conn, seq, dims, database)
                finally:
                    conn.execute("COMMIT")
                temporary, target, described = region_index.publication(built, database)
                if publish(conn, temporary, target, described, region_index.META_KEY):
                    region_index.drop_others(database, built.token)
                    self._install_region_index(
                        region_index.read_index_file(built, database), database
                    )
        except sqlite3.Error:
            return  # a cache: the next look retries; searches meanwhile read the stored regions
        finally:
            conn.close()

    def _published_region_index(
        self, columns: Columns, database: Path
    ) -> region_index.RegionIndex | None:
        """The region index the file's meta names, memory-mapped, when it is current enough."""
        loaded = _in_snapshot(self._conn, region_index.read_index, database)
        return loaded if self._current_enough(columns, loaded) else None

    def _install_region_index(self, built: region_index.RegionIndex, database: Path) -> None:
        with self._lock:
            current = self._region_index
            if self.path == database and (current is None or built.seq >= current.seq):
                self._region_index = built
                self._stale = True  # the next sync loads the tail after it

    def _load_changes(self, conn: sqlite3.Connection, columns: Columns) -> None:
        """Load every row (a first look) or the rows changed after ``columns.seq``."""
        dims_text = get_meta(conn, "dims")
        max_docno = int(conn.execute("SELECT coalesce(max(docno), 0) FROM docs").fetchone()[0])
        columns.reserve(max_docno + 1, int(dims_text) if dims_text else None)
        full = columns.seq == 0
        where = "" if full else " WHERE seq > ?"
        args = () if full else (columns.seq,)
        cursor = conn.execute(f"SELECT {MEMORY_COLUMNS} FROM docs{where}", args)
        while rows := cursor.fetchmany(LOAD_CHUNK):
            columns.apply_rows(rows, replace=not full)
            if not full:
                columns.changed_since_snapshot += len(rows)
        vector_sql = "SELECT v.docno, v.vector FROM vectors v"
        if not full:
            vector_sql += " JOIN docs d ON d.docno = v.docno WHERE d.seq > ?"
        cursor = conn.execute(vector_sql, args)
        while rows := cursor.fetchmany(LOAD_CHUNK):
            columns.apply_vectors(rows)

    def _snapshot_if_due(self) -> None:
        """Write a columns snapshot (and map it in place of the loaded arrays) when the index is
        large enough to be slow to load and the last snapshot is missing or far behind."""
        columns = self._columns
        if columns.size < self._snapshot_min_rows or self._conn.in_transaction:
            return
        if time.monotonic() < self._snapshot_retry_at:
            return
        behind = columns.changed_since_snapshot
        if columns.snapshot_token is not None and behind < max(
            self._snapshot_min_rows, columns.size * SNAPSHOT_STALE_FRACTION
        ):
            return
        target = snapshot_path(self.path)
        try:
            temporary = write_snapshot(columns, target)
        except (OSError, ValueError):
            temporary = None  # a cache: searching goes on from the loaded columns
        if temporary is None or not publish(self._conn, temporary, target):
            self._snapshot_retry_at = time.monotonic() + SNAPSHOT_RETRY_S  # e.g. a read-only dir
            return
        conn = self._conn
        conn.execute("BEGIN")
        try:
            mapped = open_snapshot(conn, self.path)
        finally:
            conn.execute("COMMIT")
        if mapped is not None and mapped.seq == columns.seq:
            mapped.regions = columns.regions  # regions live beside the snapshot, not in it
            self._columns = mapped
        self._data_version = int(conn.execute("PRAGMA data_version").fetchone()[0])

    def _regions_indexed(self, columns: Columns) -> bool:
        """Whether region vectors are served by the region index (with an exact tail in memory)
        rather than held whole in memory: from the collection size the whole maps are indexed."""
        return self._vector_count(columns) >= max(1, self._planner.min_rows)

    def _place_regions(self, conn: sqlite3.Connection, columns: Columns, seq: int) -> None:
        """Keep in memory every region (small collections), or only those of maps changed after
        the region index (its tail), or none while no region index exists yet (searches then
        read the stored regions); loaded incrementally up to ``seq``."""
        after: int | None = None
        if self._regions_indexed(columns):
            if self._region_index is None:
                columns.regions = RegionColumns(after=-1)  # nothing in memory: stream instead
                return
            after = self._region_index.seq
        if columns.regions.after != after:
            columns.regions = RegionColumns(after=after)
        if columns.regions.seq != seq:
            self._load_regions(conn, columns, seq)

    @staticmethod
    def _load_regions(conn: sqlite3.Connection, columns: Columns, seq: int) -> None:
        """Bring the in-memory regions up to ``seq``: every map's (or, for a tail, every map's
        changed after ``regions.after``) on a first look (the columns snapshot holds no regions),
        else those of the maps changed since."""
        regions = columns.regions
        sql = "SELECT r.docno, r.grid, r.count, r.boxes, r.levels, r.vectors FROM regions r"
        args: tuple[int, ...] = ()
        if not regions.seq and regions.after is not None:
            sql += " JOIN docs d ON d.docno = r.docno WHERE d.seq > ? AND d.deleted = 0"
            args = (regions.after,)
        elif regions.seq:
            changed = conn.execute("SELECT docno FROM docs WHERE seq > ?", (regions.seq,))
            regions.drop([int(row[0]) for row in changed])
            sql += " JOIN docs d ON d.docno = r.docno WHERE d.seq > ? AND d.deleted = 0"
            args = (regions.seq,)
        for docno, grid, count, boxes, levels, vectors in conn.execute(sql, args):
            regions.put(int(docno), region_set(grid, int(count), boxes, levels, vectors))
        regions.compact_if_sparse()
        regions.seq = seq

    # ---- search --------------------------------------------------------------------------

    def search(self, query: BackendQuery) -> BackendResult:
        """Keyword and semantic lists (exact), total and
        facets over their union; or a browse page."""
        with self._lock:
            try:
                self._follow_alias()
                columns = self._sync()
                self._maintain_index(columns)
                self._maintain_region_index(columns)
                if self._stale:  # a region index was installed: load the exact tail after it
                    columns = self._sync()
                return self._search(columns, query)
            except sqlite3.Error as exc:
                raise BackendError(f"embedded index unreadable: {exc}") from exc

    def _search(self, columns: Columns, query: BackendQuery) -> BackendResult:
        variants = functools.cache(self._map_variants)  # looked up once per query and term
        found = functools.cache(lambda text: self._found_in(columns, text, variants))
        mask = columns.filter_mask(query.filters)
        if query.filters.found_in is not None:
            mask &= found(query.filters.found_in.text).mask(query.filters.found_in.where)
        result = BackendResult()
        if query.text is None and query.vector is None:
            return self._browse(columns, query, mask)
        in_result = np.zeros(columns.size, bool)
        if query.text is not None:
            # one expression for both lists: map-text variants are looked up once per query
            expression = fts_match_expression(query.text, variants)
            docnos, scores = self._keyword_scored(expression, mask)
            in_result[docnos] = True
            ranked = columns.top_k(docnos, scores, query.num_candidates)
            result.keyword = self._list_hits(columns, ranked)
        if query.vector is not None:
            self._region_parts = {}
            ranked = self._semantic_top(columns, query, mask)
            in_result[np.array([d for d, _ in ranked], np.int64)] = True
            result.semantic = self._semantic_hits(columns, ranked)
        result.total = int(np.count_nonzero(in_result))
        result.facets = {
            name: found(query.text).buckets(in_result, query.facet_size)
            if name == FOUND_IN.name
            else columns.facet_counts(name, in_result, query.facet_size)
            for name in query.facets
        }
        return result

    def _found_in(
        self, columns: Columns, text: str | None, variants: Callable[[str], list[str]]
    ) -> FoundInSets:
        """The keyword matches of ``text`` by where their words were found."""
        expression = fts_match_expression(text, variants)
        return found_in_sets(self._conn, text, expression, variants, columns.size)

    def _map_variants(self, term: str) -> list[str]:
        """Words of the map text one edit from ``term`` (5+ letters; the term itself left out),
        found by probing the map-text vocabulary with every one-edit variant."""
        if len(term) < FUZZY_MIN_LENGTH:
            return []
        alphabet = "".join(dict.fromkeys(_VARIANT_ALPHABET + term))
        return listed(self._conn, sorted(one_edit_variants(term, alphabet) - {term}))

    def _keyword_scored(
        self, expression: str | None, mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(docnos, weighted BM25 scores, higher is better) of every FTS match passing the filters,
        in one pass: the result set and the keyword list both come from it.

        FTS5 scores every match even for ``ORDER BY ... LIMIT``, so listing them all costs one
        scoring pass, and the filters are then a numpy mask instead of a widening re-query."""
        if expression is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        cursor = self._conn.execute(
            f"SELECT rowid, bm25(fts, {_BM25_WEIGHTS}) FROM fts WHERE fts MATCH ?", (expression,)
        )
        parts = [np.zeros((0, 2), np.float64)]
        while rows := cursor.fetchmany(KEYWORD_CHUNK):
            parts.append(np.array(rows, np.float64))
        matched = np.concatenate(parts)
        docnos, scores = matched[:, 0].astype(np.int64), -matched[:, 1]  # bm25(): lower is better
        inside = docnos < len(mask)  # a row written after the columns were loaded
        docnos, scores = docnos[inside], scores[inside]
        keep = mask[docnos]
        return docnos[keep], scores[keep]

    def _semantic_top(
        self, columns: Columns, query: BackendQuery, mask: np.ndarray
    ) -> list[tuple[int, float]]:
        """Exact cosine top ``num_candidates`` among filtered documents with vectors."""
        vectors = columns.vectors
        assert query.vector is not None
        vector = np.asarray(query.vector, np.float32).reshape(-1)
        if vectors is None:
            return []
        if vector.shape[0] != vectors.shape[1]:
            raise ModelMismatchError(
                f"query vector has {vector.shape[0]} dims; the index holds {vectors.shape[1]}-d "
                "vectors"
            )
        allowed = mask & columns.has_vector[: columns.size]
        if query.regions and self._regions_indexed(columns) and self._has_regions(columns):
            return self._with_region_index(columns, query, vector, allowed)
        if query.regions and columns.regions.live:
            # a map's best region can lift it into the list: score every allowed map exactly
            self.last_semantic_path = "exact"
            candidates = np.flatnonzero(allowed)
            scores = gathered_scores(vectors, candidates, vector)
            return self._with_regions(columns, query, vector, candidates, scores)
        k, floor = query.num_candidates, query.min_similarity
        rows, scores = self._whole_top(columns, allowed, vector, k, floor)
        return columns.top_k(rows, scores, k)

    def _whole_top(
        self,
        columns: Columns,
        allowed: np.ndarray,
        vector: np.ndarray,
        k: int,
        floor: float | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, exact scores) of the ``k`` best allowed whole maps, by the planner's path."""
        assert columns.vectors is not None
        vectors = columns.vectors
        allowed_count = int(np.count_nonzero(allowed))
        with_vectors = self._vector_count(columns)
        vector_index = self._vector_index
        path = choose_path(vector_index, with_vectors, allowed_count, k, self._planner)
        self.last_semantic_path = path
        if path == "index":
            assert vector_index is not None
            rows, scores = self._index_top(
                columns, vector_index, allowed, allowed_count / with_vectors, vector, k, floor
            )
        elif path == "quantised":
            assert vector_index is not None
            rows, scores = self._quantised_top(columns, vector_index, allowed, vector, k, floor)
        else:
            rows, scores = exact_top(vectors, allowed, vector, k, floor)
        return rows, scores

    def _has_regions(self, columns: Columns) -> bool:
        """Whether any map has regions (index, tail, or, before the index exists, the file)."""
        if columns.regions.live or (self._region_index and self._region_index.regions):
            return True
        if self._region_index is not None:
            return False
        found = self._conn.execute("SELECT 1 FROM regions WHERE count > 0 LIMIT 1").fetchone()
        return found is not None

    def _with_region_index(
        self, columns: Columns, query: BackendQuery, vector: np.ndarray, allowed: np.ndarray
    ) -> list[tuple[int, float]]:
        """The region-aware semantic list of a large collection (docs/regions.md "Scale"):
        candidate maps = the best whole maps ∪ the maps whose regions the region index ranks best
        ∪ the best maps of the exact tail (maps changed since the index); each candidate is then
        scored exactly from its stored float32 regions and combined as ``_with_regions`` does.
        Before the region index exists every allowed map is scored by streaming the regions."""
        assert columns.vectors is not None
        k = query.num_candidates
        built = self._region_index
        if built is None:
            self.last_semantic_path = "exact"
            candidates = np.flatnonzero(allowed)
            best = stored_best(self._conn, vector, allowed)[candidates]
        else:
            whole_rows, _ = self._whole_top(columns, allowed, vector, k, None)
            self.last_semantic_path = "index"  # for regions (the whole-map part has its own)
            fresh = allowed & (columns.row_seq[: columns.size] <= built.seq)
            fresh_count = int(np.count_nonzero(fresh))
            selectivity = fresh_count / max(1, self._vector_count(columns))
            region_rows, _ = built.candidate_maps(
                vector, k, fresh if selectivity < SELECTOR_FRACTION else None, selectivity
            )
            region_rows = region_rows[region_rows < columns.size]
            region_rows = region_rows[fresh[region_rows]]
            tail = columns.regions
            tail_best = tail.best_per_map(tail.scores(vector), columns.size)
            tail_best[~allowed] = -np.inf
            tail_rows = top_positions(tail_best, k)
            candidates = np.unique(np.concatenate([whole_rows, region_rows, tail_rows]))
            stored = StoredScores(self._conn, candidates.tolist(), vector, self._stored_reader())
            best = np.array([stored.best(d) for d in candidates.tolist()], np.float32)
        whole = gathered_scores(columns.vectors, candidates, vector)

        def matches_of(docnos: list[int]) -> dict[int, list[RegionMatch]]:
            found = stored if built is not None else StoredScores(self._conn, docnos, vector)
            return {docno: found.matches(docno, REGIONS_PER_HIT) for docno in docnos}

        return self._combined(columns, query, candidates, whole, best, matches_of)

    def _stored_reader(self) -> StoredRegionReader | None:
        """The parallel reader of this file's stored regions (None: read on the query's own
        connection), opened on first use and again when the alias moves to another file."""
        threads = embedded_regions.READ_THREADS
        if threads <= 1:
            return None
        reader = self._region_reader
        if reader is None or reader.path != self.path or reader.threads != threads:
            if reader is not None:
                reader.close()
            reader = StoredRegionReader(self.path, threads, self._busy_timeout)
            self._region_reader = reader
        return reader

    def _vector_count(self, columns: Columns) -> int:
        """Rows with a vector (cached until the next change)."""
        key = (id(columns), columns.seq)
        if self._count_cache[0] != key:
            count = int(np.count_nonzero(columns.has_vector[: columns.size]))
            self._count_cache = (key, count)
        return self._count_cache[1]

    def _coverage(
        self, columns: Columns, vector_index: VectorIndex
    ) -> tuple[np.ndarray, np.ndarray]:
        """(mask over the index's docnos whose indexed vector is still current, docnos with a
        vector the index does not hold current: the exact tail), cached until the next change."""
        key = (id(columns), columns.seq, vector_index.token)
        if self._coverage_cache is None or self._coverage_cache[0] != key:
            covered = min(vector_index.rows, columns.size)
            current = columns.row_seq[:covered] <= vector_index.seq
            stale = columns.has_vector[: columns.size].copy()
            stale[:covered] &= ~current
            self._coverage_cache = (key, current, np.flatnonzero(stale))
        return self._coverage_cache[1], self._coverage_cache[2]

    def _index_top(
        self,
        columns: Columns,
        vector_index: VectorIndex,
        allowed: np.ndarray,
        selectivity: float,
        vector: np.ndarray,
        k: int,
        floor: float | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The index's candidates among rows unchanged since it was built, plus every allowed row
        written after it (the tail), all rescored exactly with their float32 vectors."""
        assert columns.vectors is not None
        current, tail_rows = self._coverage(columns, vector_index)
        fresh = allowed[: len(current)] & current
        proposed = vector_index.candidates(
            vector, fresh, int(np.count_nonzero(fresh)), k, selectivity
        )
        rows = np.concatenate([proposed, tail_rows[allowed[tail_rows]]])
        scores = gathered_scores(columns.vectors, rows, vector)
        if floor is not None:
            scores[scores < floor] = -np.inf
        picked = top_positions(scores, k)
        return rows[picked], scores[picked]

    def _quantised_top(
        self,
        columns: Columns,
        vector_index: VectorIndex,
        allowed: np.ndarray,
        vector: np.ndarray,
        k: int,
        floor: float | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The exact top ``k`` from a scan of every 8-bit code: the best codes plus the tail are
        rescored with their float32 vectors, more of them (then a deeper scan) until no code left
        out could reach the k-th exact score (or ``floor``) even at the largest quantisation
        error."""
        assert columns.vectors is not None
        current, tail_rows = self._coverage(columns, vector_index)
        fresh = allowed[: len(current)] & current
        fresh_count = int(np.count_nonzero(fresh))
        tail = tail_rows[allowed[tail_rows]]
        tail_scores = gathered_scores(columns.vectors, tail, vector)
        bound = vector_index.error_bound(vector)
        rescore = max(RERANK_MIN, 2 * k)
        depth = QUANTISED_SCAN_DEPTH * rescore  # one scan usually holds all the rescoring needs
        while True:
            proposed, approximate = vector_index.scan(vector, fresh, fresh_count, depth)
            scored = np.zeros(0, np.float32)
            while True:
                count = min(rescore, len(proposed))
                scored = np.concatenate(
                    [
                        scored,
                        gathered_scores(columns.vectors, proposed[len(scored) : count], vector),
                    ]
                )
                rows = np.concatenate([proposed[:count], tail])
                scores = np.concatenate([scored, tail_scores])
                if floor is not None:
                    scores[scores < floor] = -np.inf
                picked = top_positions(scores, k)
                if count == len(proposed) < depth:  # every allowed code was rescored
                    return rows[picked], scores[picked]
                cut = float(scores[picked].min()) if len(picked) >= k else -np.inf
                if floor is not None:
                    cut = max(cut, floor)
                best_left = approximate[count] if count < len(proposed) else approximate[-1]
                if float(best_left) + bound < cut:
                    return rows[picked], scores[picked]
                if count == len(proposed):
                    break
                rescore *= 2
            depth *= 4

    def _with_regions(
        self,
        columns: Columns,
        query: BackendQuery,
        vector: np.ndarray,
        candidates: np.ndarray,
        whole: np.ndarray,
    ) -> list[tuple[int, float]]:
        """The semantic top-k by whole map and best region combined (docs/regions.md); keeps
        each hit's parts and best regions for ``_list_hits``."""
        region_columns = columns.regions
        region_scores = region_columns.scores(vector)
        best_all = region_columns.best_per_map(region_scores, columns.size)

        def matches_of(docnos: list[int]) -> dict[int, list[RegionMatch]]:
            return {
                docno: region_columns.top_regions(docno, region_scores, REGIONS_PER_HIT)
                for docno in docnos
            }

        return self._combined(columns, query, candidates, whole, best_all[candidates], matches_of)

    def _combined(
        self,
        columns: Columns,
        query: BackendQuery,
        candidates: np.ndarray,
        whole_scores: np.ndarray,
        best_scores: np.ndarray,
        matches_of: Callable[[list[int]], dict[int, list[RegionMatch]]],
    ) -> list[tuple[int, float]]:
        """Rank ``candidates`` (sorted docnos) by their whole-map and best-region cosines combined
        (``max`` or ``blend``); keeps each hit's parts and best regions for ``_semantic_hits``."""
        best = best_scores.astype(np.float64)
        whole = whole_scores.astype(np.float64)
        has_regions = np.isfinite(best)
        if query.region_combine == "blend":
            weight = query.region_weight
            combined = np.where(has_regions, (1 - weight) * whole + weight * best, whole)
        else:
            combined = np.maximum(whole, best)
        keep = np.ones(len(candidates), bool)
        if query.min_similarity is not None:
            keep = combined >= query.min_similarity
        ranked = columns.top_k(candidates[keep], combined[keep], query.num_candidates)
        # the region list: maps ranked by their best region alone (what explain reports)
        with_regions = candidates[has_regions]
        region_top = columns.top_k(with_regions, best[has_regions], query.num_candidates)
        region_rank = {docno: rank for rank, (docno, _) in enumerate(region_top, start=1)}
        # ``candidates`` is sorted: find each ranked map's whole-map and region scores there
        ranked_docnos = np.array([docno for docno, _ in ranked], np.int64)
        positions = np.searchsorted(candidates, ranked_docnos)
        whole_of = dict(zip(ranked_docnos.tolist(), whole[positions].tolist(), strict=True))
        best_of = dict(zip(ranked_docnos.tolist(), best[positions].tolist(), strict=True))
        matches = matches_of(ranked_docnos.tolist())
        self._region_parts = {
            docno: (
                whole_of[docno],
                best_of[docno] if np.isfinite(best_of[docno]) else None,
                region_rank.get(docno),
                tuple(matches.get(docno, ())),
            )
            for docno, _ in ranked
        }
        return ranked

    def _semantic_hits(self, columns: Columns, ranked: list[tuple[int, float]]) -> list[ListHit]:
        """Semantic ListHits, with whole-map/region parts when regions took part."""
        hits = self._list_hits(columns, ranked)
        parts, self._region_parts = self._region_parts, {}
        if not parts:
            return hits
        return [
            dataclasses.replace(
                hit,
                whole_score=parts[docno][0],
                region_score=parts[docno][1],
                region_rank=parts[docno][2],
                regions=parts[docno][3],
            )
            for hit, (docno, _) in zip(hits, ranked, strict=True)
        ]

    @staticmethod
    def _list_hits(columns: Columns, ranked: list[tuple[int, float]]) -> list[ListHit]:
        docnos = np.array([docno for docno, _ in ranked], np.int64)
        years = columns.year_start[
            docnos
        ].tolist()  # bulk conversion: per-element numpy access is slow
        dated = columns.dated[docnos].tolist()
        ids, item_ids, titles = columns.ids, columns.item_ids, columns.titles
        return [
            ListHit(
                id=ids[docno],
                score=score,
                item_id=item_ids[docno],
                year_start=year if has_year else None,
                title=titles[docno],
            )
            for (docno, score), year, has_year in zip(ranked, years, dated, strict=True)
        ]

    def _browse(self, columns: Columns, query: BackendQuery, mask: np.ndarray) -> BackendResult:
        docnos = np.flatnonzero(mask)
        sort = "title" if query.browse_sort == "relevance" else query.browse_sort
        ordered = columns.browse_order(docnos, sort)
        page = ordered[query.browse_offset : query.browse_offset + query.browse_limit]
        return BackendResult(
            browse=self._list_hits(columns, [(int(d), 0.0) for d in page]),
            total=len(docnos),
            facets={
                # found_in counts keyword matches: a browse has none
                name: []
                if name == FOUND_IN.name
                else columns.facet_counts(name, mask, query.facet_size)
                for name in query.facets
            },
        )

    # ---- reads by id ---------------------------------------------------------------------

    def fetch(self, ids: Sequence[str]) -> dict[str, IndexDocument]:
        """Full documents (vectors included) for these ids; missing ids are absent.

        Vectors come from the loaded (memory-mapped) matrix when it holds exactly the state this
        read sees: a page of hits then costs no random reads of the large vectors table."""
        found: dict[str, IndexDocument] = {}
        with self._lock:
            self._follow_alias()
            conn = self._conn
            own = not conn.in_transaction  # inside ``writes_frozen`` the snapshot is already ours
            if own:
                conn.execute("BEGIN")
            try:
                columns: Columns | None = self._columns
                if (
                    columns is None
                    or columns.vectors is None
                    or columns.seq != int(get_meta(conn, "seq") or 0)
                ):
                    columns = None
                for start in range(0, len(ids), 500):
                    self._fetch_part(list(ids[start : start + 500]), columns, found)
            finally:
                if own:
                    conn.execute("COMMIT")
        return found

    def _fetch_part(
        self, part: list[str], columns: Columns | None, found: dict[str, IndexDocument]
    ) -> None:
        marks = ",".join("?" * len(part))
        vector_column = "NULL" if columns is not None else "v.vector"
        vector_join = "" if columns is not None else " LEFT JOIN vectors v ON v.docno = d.docno"
        sql = (
            f"SELECT d.id, d.docno, r.record, {vector_column}, d.model_id, d.image_hash, "
            f"d.indexed_at FROM docs d JOIN records r ON r.docno = d.docno{vector_join} "
            f"WHERE d.deleted = 0 AND d.id IN ({marks})"
        )
        rows = self._conn.execute(sql, part).fetchall()
        regions = read_regions(self._conn, [row[1] for row in rows])
        for doc_id, docno, record_blob, blob, model_id, image_hash, indexed_at in rows:
            vector = None if blob is None else np.frombuffer(blob, dtype="<f4").copy()
            if columns is not None and columns.has_vector[docno]:
                assert columns.vectors is not None
                vector = np.array(columns.vectors[docno], dtype=np.float32)
            found[doc_id] = IndexDocument(
                record=MapRecord.model_validate_json(record_from_blob(record_blob)),
                vector=vector,
                model_id=model_id,
                image_hash=image_hash,
                indexed_at=datetime.fromisoformat(indexed_at),
                regions=regions.get(docno),
            )

    def change_seq(self) -> int:
        """The sequence number of the latest change (grows with every write and delete)."""
        with self._lock:
            self._follow_alias()
            return int(get_meta(self._conn, "seq") or 0)

    def changes_since(self, seq: int) -> tuple[int, list[tuple[str, bool]]]:
        """(latest seq, [(id, deleted)] of every document changed after ``seq``), one snapshot."""
        with self._lock:
            self._follow_alias()
            conn = self._conn
            own = not conn.in_transaction  # inside ``writes_frozen`` the snapshot is already ours
            if own:
                conn.execute("BEGIN")
            try:
                latest = int(get_meta(conn, "seq") or 0)
                rows = conn.execute(
                    "SELECT id, deleted FROM docs WHERE seq > ? ORDER BY seq", (seq,)
                ).fetchall()
            finally:
                if own:
                    conn.execute("COMMIT")
        return latest, [(str(doc_id), bool(deleted)) for doc_id, deleted in rows]

    @contextmanager
    def writes_frozen(self) -> Iterator[None]:
        """Hold this file's write lock: other writers wait (and then follow the alias, see
        ``_begin_write``) while the caller reads a final, unchanging state."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                self._conn.execute("ROLLBACK")

    def document_ids(self) -> list[str]:
        """Every live document id, in storage order (what a full rebuild walks)."""
        with self._lock:
            self._follow_alias()
            return [
                row[0]
                for row in self._conn.execute(
                    "SELECT id FROM docs WHERE deleted = 0 ORDER BY docno"
                )
            ]

    def get_vector(self, doc_id: str) -> np.ndarray | None:
        """The stored image vector of one document, or None."""
        with self._lock:
            self._follow_alias()
            row = self._conn.execute(
                "SELECT v.vector FROM docs d JOIN vectors v ON v.docno = d.docno WHERE d.id = ? "
                "AND d.deleted = 0",
                (doc_id,),
            ).fetchone()
        return None if row is None else np.frombuffer(row[0], dtype="<f4").copy()

    def info(self) -> IndexInfo:
        """Counts, model id, dims, file path."""
        with self._lock:  # from SQL, so a status check never waits for the vectors to load
            self._follow_alias()
            documents, with_vectors = self._conn.execute(
                "SELECT count(*), count(model_id) FROM docs WHERE deleted = 0"
            ).fetchone()
            dims = get_meta(self._conn, "dims")
            return IndexInfo(
                backend=self.name,
                name=str(self._alias or self.path),
                physical=str(self.path),
                documents=int(documents),
                with_vectors=int(with_vectors),
                model_id=get_meta(self._conn, "model_id"),
                dims=int(dims) if dims else None,
            )

    def model_id(self) -> str | None:
        """The model that made the stored vectors (None while the index has none)."""
        with self._lock:
            self._follow_alias()
            return get_meta(self._conn, "model_id")

    def refresh(self) -> None:
        """Reload whatever other processes wrote (searches do this on their own too)."""
        with self._lock:
            self._follow_alias()
            self._stale = True
            self._sync()

    def close(self) -> None:
        """Close the SQLite connections."""
        with self._lock:
            if self._region_reader is not None:
                self._region_reader.close()
                self._region_reader = None
            self._conn.close()
