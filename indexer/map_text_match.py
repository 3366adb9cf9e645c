"""Which words on a map a keyword query matched, and where a match was found (catalogue, on the
map, or both): computed from the stored record with the same analysis and one-edit rule the
backends search with, so every backend reports the same words and boxes."""

from __future__ import annotations

import functools

from indexer.analysis import analyze, keyword_terms
from indexer.fuzzy import fuzzy_match
from indexer.records import MapRecord, MapWord
from indexer.search_surface import FoundIn, keyword_fields

MAX_MATCHED_WORDS = 5


def map_word_terms(record: MapRecord) -> str:
    """The map-text keyword field of a record: every word read from its image."""
    return " ".join(word.text for word in record.map_text)


def map_text_terms(record: MapRecord) -> str:
    """The map-text field as both backends index it: the analysed terms of every word read from
    the image, space-separated; equal to ``" ".join(analyze(map_word_terms(record)))``, but each
    distinct word is analysed once per process (``_terms_of``; ~175 words a map, mostly recurring
    place names: analysing the joined text was a third of a write's client time in bulk loads)."""
    return " ".join(term for word in record.map_text for term in _terms_of(word.text))


def matched_map_words(
    record: MapRecord, text: str | None, limit: int = MAX_MATCHED_WORDS
) -> list[MapWord]:
    """The words on the map that the query's terms match (one edit allowed for terms of five
    letters or more), most confident first, at most ``limit``."""
    terms = keyword_terms(text)
    if not terms or not record.map_text:
        return []
    matches: dict[str, bool] = {}  # a map names its towns many times: decide each text once
    matched = []
    for word in record.map_text:
        found = matches.get(word.text)
        if found is None:
            found = matches[word.text] = any(
                fuzzy_match(term, read) for read in _terms_of(word.text) for term in terms
            )
        if found:
            matched.append(word)
    return sorted(matched, key=lambda word: -word.score)[:limit]


@functools.lru_cache(maxsize=65_536)
def _terms_of(text: str) -> tuple[str, ...]:
    """The analysed terms of one map word (cached: the same place names recur across maps)."""
    return tuple(analyze(text))


def found_in(
    record: MapRecord, text: str | None, matched: list[MapWord] | None = None
) -> FoundIn | None:
    """Where the query's terms were found: in the catalogue record, on the map, or both (None:
    nowhere, e.g. a hit of the image search alone). ``matched``: the map words, if known."""
    terms = keyword_terms(text)
    if not terms:
        return None
    catalogue_terms = {t for value in keyword_fields(record).values() for t in analyze(value)}
    in_catalogue = any(term in catalogue_terms for term in terms)
    on_map = bool(matched if matched is not None else matched_map_words(record, text, limit=1))
    if in_catalogue and on_map:
        return "both"
    return "catalogue" if in_catalogue else ("map" if on_map else None)
