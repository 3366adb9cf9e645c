"""Where each search concept lives in an Elasticsearch index: our own mapping (``MAPS_FIELDS``)
or a library's catalogue index described by an attach config (see docs/elasticsearch.md)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from indexer.search_surface import (
    FACETS_BY_NAME,
    KEYWORD_FIELD_WEIGHTS,
    MAP_TEXT_FIELD,
    TERMS_FACETS,
)


@dataclass(frozen=True)
class FieldMap:
    """Field names the query builders use; everything
    else about a query is the same for any index."""

    id: str = "id"
    item_id: str | None = "item_id"  # None: every document is its own item
    title: str = "title"  # _source path shown in hits
    # Hits read id/item/year/title from doc values (``title_docvalue``) instead of parsing each
    # hit's whole _source (vector + record): 1,000-hit lists stay fast. None: read _source.
    title_docvalue: str | None = "title.raw"
    title_sort: str | None = "title.sort"  # keyword field for the title sort
    # BM25 fields and weights (title highest, then subjects+places, body, contributors)
    text_fields: dict[str, float] = field(default_factory=lambda: dict(KEYWORD_FIELD_WEIGHTS))
    # Terms facet (and filter) name -> keyword field; a facet missing here is one the index lacks
    terms: dict[str, str] = field(
        default_factory=lambda: {facet.name: facet.field for facet in TERMS_FACETS}
    )
    year_start: str | None = "year_start"
    year_end: str | None = "year_end"
    has_image: str | None = "has_image"
    extent_prefix: str | None = "extent"  # <prefix>.west/south/east/north/crosses_antimeridian
    vector: str = "vector"
    model_id: str = "model_id"
    # The nested region vectors (mapping v3+; docs/regions.md); None: the index has no regions.
    region_vector: str | None = None
    # True: the text fields hold ``indexer.analysis`` terms (mapping v2+), so queries send terms;
    # False: the index analyses text itself (v1, attached catalogues), so queries send words.
    analysed_terms: bool = False
    # The words read from the map image (mapping v3+), matched within one edit; None: none.
    map_text: str | None = None

    def facet_field(self, facet: str) -> str | None:
        """The field behind an API facet name, or None when this index lacks it."""
        kind = FACETS_BY_NAME[facet].kind if facet in FACETS_BY_NAME else None
        if kind == "decade":
            return self.year_start
        if kind == "flag":
            return self.has_image
        return self.terms.get(facet)

    def with_english(self) -> FieldMap:
        """Query the English-stemmed subfields (present when the cluster had analysis-common)."""
        return replace(
            self, text_fields={f"{name}.english": w for name, w in self.text_fields.items()}
        )


MAPS_FIELDS = FieldMap()  # mapping v1
# Mapping v2+: keyword search over ``terms.<field>``, analysed in Python like the embedded backend.
MAPS_FIELDS_TERMS = FieldMap(
    text_fields={f"terms.{name}": w for name, w in KEYWORD_FIELD_WEIGHTS.items()},
    analysed_terms=True,
)
TERMS_SINCE_VERSION = 2
# Mapping v3+: nested ``regions`` (vector, box, level) beside the whole-map vector.
MAPS_FIELDS_REGIONS = replace(MAPS_FIELDS_TERMS, region_vector="regions.vector")
REGIONS_SINCE_VERSION = 3
MAP_TEXT_SINCE_VERSION = 3
# ... and ``terms.map_text``: the words read from the map image (maptext), matched fuzzily.
MAPS_FIELDS_MAP_TEXT = replace(MAPS_FIELDS_REGIONS, map_text=f"terms.{MAP_TEXT_FIELD}")


def maps_fields(mapping_version: int | None, analysis: str | None) -> FieldMap:
    """The field map of one of our indices, by its ``_meta`` (mapping version and analysis)."""
    if (mapping_version or 1) >= MAP_TEXT_SINCE_VERSION:
        return MAPS_FIELDS_MAP_TEXT
    if (mapping_version or 1) >= REGIONS_SINCE_VERSION:
        return MAPS_FIELDS_REGIONS
    if (mapping_version or 1) >= TERMS_SINCE_VERSION:
        return MAPS_FIELDS_TERMS
    return MAPS_FIELDS.with_english() if analysis == "english" else MAPS_FIELDS
