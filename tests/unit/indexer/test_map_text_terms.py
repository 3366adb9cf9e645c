"""The map-text field as the backends index it (``map_text_match.map_text_terms``): analysed word
by word with a cache, it must equal analysing the joined text, or an embedded delete (which
re-derives a row's indexed text) would miss what an older write indexed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.analysis import analyze
from indexer.backends.embedded_schema import FTS_COLUMNS, fts_text
from indexer.backends.es_documents import keyword_source
from indexer.map_text_match import map_text_terms, map_word_terms
from indexer.records import MapRecord, MapWord
from indexer.search_surface import MAP_TEXT_FIELD

# Letters that fold, decompose, combine or separate words, next to plain ones.
TRICKY = "aZe é ßﬁÆøıİ_-'.\u0301\u0308\u00a8\uff9e\u3099カ1½"
WORD_TEXT = st.sampled_from(["Straße", "ST.", "St. Ives's", "  "]) | st.text(
    alphabet=st.sampled_from(TRICKY) | st.characters(codec="utf-8"), min_size=1, max_size=12
)


def record_reading(texts: list[str]) -> MapRecord:
    return MapRecord(
        id="test:1",
        source="test",
        title="Chart of the coast",
        map_text=[MapWord(text=t, box=(n, 0, 10, 10), score=0.9) for n, t in enumerate(texts)],
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(WORD_TEXT, max_size=20))
def test_word_by_word_terms_equal_the_analysed_joined_text(texts: list[str]) -> None:
    record = record_reading(texts)
    assert map_text_terms(record) == " ".join(analyze(map_word_terms(record)))


def test_both_backends_index_the_same_map_text_terms() -> None:
    record = record_reading(["Villehamstad", "ELMOUTH", "Villehamstad", "Rivières", "St. Ives's"])
    expected = "villehamstad elmouth villehamstad riviere st ive s"
    assert map_text_terms(record) == expected
    assert fts_text(record)[FTS_COLUMNS.index(MAP_TEXT_FIELD)] == expected
    assert keyword_source(record, 4)["terms"][MAP_TEXT_FIELD] == expected
    assert keyword_source(record, 2)["terms"].get(MAP_TEXT_FIELD) is None  # v2: no map text
