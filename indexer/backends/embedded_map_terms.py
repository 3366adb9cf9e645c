"""The map-text vocabulary of the embedded backend: every term ever indexed in the FTS map-text
column, in a small table of its own, so a query word's one-edit variants are looked up there
(a few microseconds each) instead of in ``fts5vocab``, which seeks every FTS segment for every
variant (20-30 ms per query word at 562,842 maps).

A term stays listed after its last map is deleted or re-read: a variant no map holds matches
nothing in ``map_text : (...)``, and scores nothing in BM25, so a stale term changes no result."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from more_itertools import chunked

from indexer.search_surface import MAP_TEXT_FIELD

MAP_TERMS_DDL = "CREATE TABLE IF NOT EXISTS map_terms (term TEXT PRIMARY KEY) WITHOUT ROWID;"
# Below SQLite's bound-parameter limit.
PROBE_CHUNK = 900


def record_map_terms(conn: sqlite3.Connection, map_texts: Iterable[str]) -> None:
    """List the terms of these map-text FTS values (space-separated analysed terms), inside the
    caller's write transaction."""
    terms = {term for text in map_texts for term in text.split()}
    conn.executemany("INSERT OR IGNORE INTO map_terms(term) VALUES (?)", ((t,) for t in terms))


def fill_from_fts(conn: sqlite3.Connection) -> None:
    """List every term the FTS index holds in its map-text column (a file made before this table
    existed, or a rebuilt FTS table), inside the caller's write transaction."""
    conn.execute(MAP_TERMS_DDL)
    conn.execute(
        "INSERT OR IGNORE INTO map_terms(term) SELECT term FROM fts_vocab WHERE col = ?",
        (MAP_TEXT_FIELD,),
    )


def listed(conn: sqlite3.Connection, candidates: Sequence[str]) -> list[str]:
    """The candidates that are map-text terms (sorted within each chunk of ``PROBE_CHUNK``)."""
    found: list[str] = []
    for chunk in chunked(candidates, PROBE_CHUNK):
        marks = ", ".join("?" * len(chunk))
        found += [
            row[0]
            for row in conn.execute(
                f"SELECT term FROM map_terms WHERE term IN ({marks}) ORDER BY term", chunk
            )
        ]
    return found
