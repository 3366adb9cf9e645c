"""The search surface (indexer.search_surface) against what the stores hold: every terms facet
has a keyword field in the newest Elasticsearch mapping and a column in the embedded layout, and
its values come from the record. A new facet without a new mapping version fails here."""

from __future__ import annotations

import es_mappings
from indexer.backends.embedded_schema import DDL, MULTI_FIELDS, doc_to_row
from indexer.backends.es_documents import to_source
from indexer.backends.es_fields import MAPS_FIELDS
from indexer.records import IndexDocument, MapRecord, Place
from indexer.search_surface import FACET_NAMES, FACETS, SORT_LABELS, TERMS_FACETS, Sort

RECORD = MapRecord(
    id="t:1",
    source="t",
    title="Harbour chart",
    subjects=["Harbors", "Harbors"],
    places=[Place(name="Boston")],
    collections=["Rare maps"],
    formats=["Nautical charts"],
    languages=["English"],
)


def test_every_terms_facet_is_a_keyword_field_of_the_newest_mapping() -> None:
    properties = es_mappings.load_mapping(es_mappings.latest_version())["mappings"]["properties"]
    for facet in TERMS_FACETS:
        assert properties[facet.field]["type"] == "keyword", facet.name
        assert MAPS_FIELDS.facet_field(facet.name) == facet.field


def test_computed_facets_read_the_year_and_image_fields() -> None:
    assert MAPS_FIELDS.facet_field("decade") == "year_start"
    assert MAPS_FIELDS.facet_field("has_image") == "has_image"
    assert MAPS_FIELDS.facet_field("nonsense") is None


def test_every_terms_facet_is_an_embedded_column() -> None:
    assert tuple(facet.field for facet in TERMS_FACETS) == MULTI_FIELDS
    for column in MULTI_FIELDS:
        assert f"{column} TEXT NOT NULL" in DDL


def test_both_backends_store_the_facet_values_of_the_record() -> None:
    doc = IndexDocument(record=RECORD)
    source = to_source(doc)
    row = doc_to_row(doc).values
    expected = {
        "place": ["Boston"],
        "subject": ["Harbors"],  # a value given twice counts once
        "collection": ["Rare maps"],
        "format": ["Nautical charts"],
        "language": ["English"],
        "source": ["t"],
    }
    assert {facet.name for facet in TERMS_FACETS} == set(expected)
    for facet in TERMS_FACETS:
        stored = source[facet.field]
        assert (stored if facet.multi_valued else [stored]) == expected[facet.name]
        assert str(row[facet.field]).split("\x1f") == expected[facet.name]


def test_facet_names_are_unique_and_sorts_are_labelled() -> None:
    assert len(FACET_NAMES) == len(FACETS)
    assert set(SORT_LABELS) == set(Sort.__args__)  # type: ignore[attr-defined]
