"""Where the words of a query were found in each keyword match of the embedded backend: in the
catalogue columns only, in the map-text column only, or both, as masks over docnos. They make
the ``found_in`` filter and facet (``indexer.search_surface``) from the same FTS5 table."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from indexer.analysis import keyword_terms
from indexer.backends.embedded_schema import CATALOGUE_COLUMNS
from indexer.search_surface import FOUND_IN_VALUES, MAP_TEXT_FIELD, FoundIn


@dataclass(frozen=True)
class FoundInSets:
    """Keyword matches by where their words were found (bool arrays, one entry per docno)."""

    catalogue: np.ndarray
    map: np.ndarray
    both: np.ndarray

    def of(self, value: FoundIn) -> np.ndarray:
        """The mask of one ``found_in`` value."""
        return {"catalogue": self.catalogue, "map": self.map, "both": self.both}[value]

    def mask(self, where: Sequence[FoundIn]) -> np.ndarray:
        """Documents found in any of ``where``."""
        kept = np.zeros(len(self.catalogue), bool)
        for value in where:
            kept |= self.of(value)
        return kept

    def buckets(self, result: np.ndarray, size: int) -> list[tuple[str, int]]:
        """Facet buckets over the result set: count desc, value asc, empty buckets left out."""
        counts: list[tuple[str, int]] = [
            (value, int(np.count_nonzero(self.of(value) & result))) for value in FOUND_IN_VALUES
        ]
        counts = [bucket for bucket in counts if bucket[1]]
        counts.sort(key=lambda bucket: (-bucket[1], bucket[0]))
        return counts[:size]


def _quoted(words: Sequence[str]) -> str:
    return " OR ".join(f'"{word}"' for word in words)


def found_in_sets(
    conn: sqlite3.Connection,
    text: str | None,
    keyword_expression: str | None,
    map_variants: Callable[[str], list[str]],
    size: int,
) -> FoundInSets:
    """The keyword matches of ``keyword_expression`` (the list's own MATCH expression for
    ``text``) split by where any query term occurs: exactly in a catalogue column, or on the
    map (exactly or as one of ``map_variants(term)``, the map words one edit away); masks over
    ``size`` docnos."""
    terms = keyword_terms(text)
    empty = np.zeros(size, bool)
    if not terms or keyword_expression is None:
        return FoundInSets(empty, empty, empty)
    catalogue_columns = " ".join(CATALOGUE_COLUMNS)
    on_map = [word for term in terms for word in (term, *map_variants(term))]
    matched = _matches(conn, keyword_expression, size)
    in_catalogue = _matches(conn, f"{{{catalogue_columns}}} : ({_quoted(terms)})", size)
    in_map = _matches(conn, f"{MAP_TEXT_FIELD} : ({_quoted(on_map)})", size)
    return FoundInSets(
        catalogue=matched & in_catalogue & ~in_map,
        map=matched & in_map & ~in_catalogue,
        both=matched & in_catalogue & in_map,
    )


def _matches(conn: sqlite3.Connection, expression: str, size: int) -> np.ndarray:
    """Docnos matching an FTS5 expression as a mask (rows past ``size`` are not loaded yet)."""
    cursor = conn.execute("SELECT rowid FROM fts WHERE fts MATCH ?", (expression,))
    docnos = np.fromiter((row[0] for row in cursor), np.int64)
    found = np.zeros(size, bool)
    found[docnos[docnos < size]] = True
    return found
