"""The embedded backend's SQLite layout and the mapping from an index document to its rows.

One row per document in ``docs`` (never physically removed: a delete is a tombstone, so other
processes can replay it), its vector in ``vectors``, its full record (zlib-compressed JSON) in
``records``, its text in the contentless FTS5 table ``fts`` (a row's indexed text is re-derived
from its stored record to delete it); ``seq`` grows with every change so readers reload
incrementally. ``docs`` holds only what searches load, so loading is a fast scan."""

from __future__ import annotations

import sqlite3
import zlib
from dataclasses import dataclass

import numpy as np

from indexer.analysis import analyze
from indexer.backends.embedded_map_terms import MAP_TERMS_DDL, fill_from_fts
from indexer.backends.embedded_regions import REGIONS_DDL
from indexer.map_text_match import map_text_terms
from indexer.records import IndexDocument, MapRecord
from indexer.region_set import RegionSet
from indexer.search_surface import (
    KEYWORD_FIELD_WEIGHTS,
    MAP_TEXT_FIELD,
    MAP_TEXT_WEIGHT,
    TERMS_FACETS,
    keyword_fields,
)

SCHEMA_VERSION = 7  # bump whenever the layout or fts_text() changes
# Older layouts whose FTS table differs: rebuilt in place from the stored records on first open
# (3: FTS5's porter tokenizer over raw text; 4: indexer.analysis terms; 4 and 5: no map text
# column); tables added since (5: ``regions``) are then created empty by the DDL.
FTS_ONLY_CHANGES = frozenset({"3", "4", "5"})
# Older layouts without the ``map_terms`` table (embedded_map_terms): created and filled from the
# FTS vocabulary on first open (6).
MAP_TERMS_CHANGES = frozenset({"6"})
# Older layouts that only lack tables added since: the tables are created and the version raised
# on first open; nothing stored changes. (None now: 4 also lacks the map text column.)
TABLES_ONLY_CHANGES: frozenset[str] = frozenset()
# Terms facet columns, each stored as one string joined by the ASCII unit separator. A new
# facet adds a column: bump SCHEMA_VERSION (old files are rebuilt by importing again).
MULTI_FIELDS: tuple[str, ...] = tuple(facet.field for facet in TERMS_FACETS)
SEPARATOR = "\x1f"
# The catalogue's keyword fields, then the words read from the map image (their own column).
FTS_WEIGHTS: dict[str, float] = {**KEYWORD_FIELD_WEIGHTS, MAP_TEXT_FIELD: MAP_TEXT_WEIGHT}
FTS_COLUMNS: tuple[str, ...] = tuple(FTS_WEIGHTS)
CATALOGUE_COLUMNS: tuple[str, ...] = tuple(KEYWORD_FIELD_WEIGHTS)

DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    docno INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    seq INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    item_id TEXT NOT NULL,
    year_start INTEGER,
    year_end INTEGER,
    has_image INTEGER NOT NULL,
    west REAL, south REAL, east REAL, north REAL,
    {", ".join(f"{column} TEXT NOT NULL" for column in MULTI_FIELDS)},
    title TEXT NOT NULL,
    model_id TEXT,
    image_hash TEXT,
    indexed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_seq ON docs(seq);
CREATE TABLE IF NOT EXISTS vectors (docno INTEGER PRIMARY KEY, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS records (docno INTEGER PRIMARY KEY, record BLOB NOT NULL);
{REGIONS_DDL}
{MAP_TERMS_DDL}
{{fts}}
"""
# The terms are analysed in Python (indexer.analysis); unicode61 only splits them on spaces.
FTS_DDL = f"""CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    {", ".join(FTS_COLUMNS)},
    content='',
    tokenize='unicode61 remove_diacritics 0'
);"""
# The FTS index's terms per column (what fills ``map_terms`` for a file of an older layout).
VOCAB_DDL = "CREATE VIRTUAL TABLE IF NOT EXISTS fts_vocab USING fts5vocab(fts, col);"
DDL = DDL.replace("{fts}", FTS_DDL + "\n" + VOCAB_DDL)

# Columns the in-memory state loads (order matters: see embedded_columns.ChangedRow).
MEMORY_COLUMNS = (
    "docno, id, deleted, item_id, title, year_start, year_end, has_image, west, south, east, "
    "north, " + ", ".join(MULTI_FIELDS) + ", seq"
)


@dataclass(frozen=True)
class DocRow:
    """The column values of one document, ready for INSERT/UPDATE."""

    values: dict[str, object]
    fts: tuple[str, ...]
    vector: bytes | None
    record: bytes  # zlib-compressed record JSON
    regions: RegionSet | None = None  # None: never tiled (stored regions are removed)


def _join(values: list[str]) -> str:
    # Dedupe (a place named twice must count once in facets) and drop the separator itself.
    cleaned = (v.replace(SEPARATOR, " ").strip() for v in values)
    return SEPARATOR.join(dict.fromkeys(v for v in cleaned if v))


def fts_text(record: MapRecord) -> tuple[str, ...]:
    """The analysed terms of each keyword field (``FTS_COLUMNS`` order), space-separated;
    deterministic, as deletes rely on it."""
    catalogue = keyword_fields(record)
    return tuple(
        map_text_terms(record) if c == MAP_TEXT_FIELD else " ".join(analyze(catalogue[c]))
        for c in FTS_COLUMNS
    )


def doc_to_row(doc: IndexDocument) -> DocRow:
    """Column values, FTS text and vector bytes of one document."""
    record = doc.record
    extent = record.extent
    values: dict[str, object] = {
        "id": record.id,
        "revision": record.revision,
        "item_id": record.item_id or record.id,
        "title": record.title,
        "year_start": record.year_start,
        "year_end": record.year_end,
        "has_image": int(record.shows_image),
        "west": extent.west if extent else None,
        "south": extent.south if extent else None,
        "east": extent.east if extent else None,
        "north": extent.north if extent else None,
        **{facet.field: _join(facet.values_of(record)) for facet in TERMS_FACETS},
        "model_id": doc.model_id if doc.vector is not None else None,
        "image_hash": doc.image_hash,
        "indexed_at": doc.indexed_at.isoformat(),
    }
    vector = None
    if doc.vector is not None:
        vector = np.ascontiguousarray(doc.vector, dtype="<f4").tobytes()
    return DocRow(
        values=values,
        fts=fts_text(record),
        vector=vector,
        record=zlib.compress(record.model_dump_json().encode(), 1),
        regions=doc.regions if doc.vector is not None else None,
    )


def record_from_blob(blob: bytes) -> str:
    """The record JSON stored by ``doc_to_row``."""
    return zlib.decompress(blob).decode()


def connect(path: str, busy_timeout: float = 30.0) -> sqlite3.Connection:
    """A connection in WAL mode with the schema created; autocommit, explicit transactions;
    a writer waits ``busy_timeout`` seconds for another writer's lock before giving up."""
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=busy_timeout
    )
    # Before anything is written: 16 KiB pages hold seven 2 KiB vectors (4 KiB pages hold one).
    conn.execute("PRAGMA page_size=16384")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "PRAGMA synchronous=FULL"
    )  # a committed write survives power loss, not just a crash
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    has_docs = (
        conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'docs'").fetchone() is not None
    )
    has_meta = (
        conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is not None
    )
    found = get_meta(conn, "schema_version") if has_meta else None
    if has_docs and found in FTS_ONLY_CHANGES:
        rebuild_fts(conn)
        found = get_meta(conn, "schema_version")
    if has_docs and found in MAP_TERMS_CHANGES:
        add_map_terms(conn)
        found = get_meta(conn, "schema_version")
    if has_docs and found in TABLES_ONLY_CHANGES:
        conn.executescript(DDL)
        set_meta(conn, "schema_version", str(SCHEMA_VERSION))
        found = str(SCHEMA_VERSION)
    if has_docs and found != str(SCHEMA_VERSION):
        conn.close()
        raise sqlite3.DatabaseError(
            f"index file {path} has layout version {found}, this mapsearch needs {SCHEMA_VERSION}: "
            "delete the file and import again (the catalogue is the source of truth)"
        )
    conn.executescript(DDL)
    conn.execute(
        "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
        (str(SCHEMA_VERSION),),
    )
    conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('seq', '0')")
    return conn


def rebuild_fts(conn: sqlite3.Connection) -> None:
    """Re-create the FTS table from the stored records (an older layout's keyword analysis),
    under the write lock, once: whoever gets the lock first rebuilds, the others find it done."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if get_meta(conn, "schema_version") not in FTS_ONLY_CHANGES:
            conn.execute("ROLLBACK")
            return
        conn.execute("DROP TABLE IF EXISTS fts")
        conn.execute(FTS_DDL)
        cursor = conn.execute(
            "SELECT d.docno, r.record FROM docs d JOIN records r ON r.docno = d.docno "
            "WHERE d.deleted = 0"
        )
        columns = ", ".join(FTS_COLUMNS)
        marks = ", ?" * len(FTS_COLUMNS)
        while rows := cursor.fetchmany(1000):
            conn.executemany(
                f"INSERT INTO fts(rowid, {columns}) VALUES (?{marks})",
                [
                    (docno, *fts_text(MapRecord.model_validate_json(record_from_blob(blob))))
                    for docno, blob in rows
                ],
            )
        fill_from_fts(conn)
        set_meta(conn, "schema_version", str(SCHEMA_VERSION))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def add_map_terms(conn: sqlite3.Connection) -> None:
    """Create and fill the map-text vocabulary of an older layout, under the write lock, once:
    whoever gets the lock first fills it, the others find it done."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if get_meta(conn, "schema_version") not in MAP_TERMS_CHANGES:
            conn.execute("ROLLBACK")
            return
        fill_from_fts(conn)
        set_meta(conn, "schema_version", str(SCHEMA_VERSION))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    """One value of the meta table."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Set one value of the meta table (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = "
        "excluded.value",
        (key, value),
    )
