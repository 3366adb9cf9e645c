"""Where each search concept lives in an Elasticsearch index: our own mapping (``MAPS_FIELDS``)
or a library's catalogue index described by an attach config (see docs/elasticsearch.md)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from indexer.backends.base import KEYWORD_FIELD_WEIGHTS


@dataclass(frozen=True)
class FieldMap:
    """Field names the query builders use; everything else about a query is the same for any index."""

    id: str = "id"
    item_id: str | None = "item_id"  # None: every document is its own item
    title: str = "title"  # _source path shown in hits
    # Hits read id/item/year/title from doc values (``title_docvalue``) instead of parsing each
    # hit's whole _source (vector + record): 1,000-hit lists stay fast. None: read _source.
    title_docvalue: str | None = "title.raw"
    title_sort: str | None = "title.sort"  # keyword field for the title sort
    # BM25 fields and weights (title highest, then subjects+places, body, contributors)
    text_fields: dict[str, float] = field(default_factory=lambda: dict(KEYWORD_FIELD_WEIGHTS))
    # Filters attribute (and facet name) -> keyword field
    places: str | None = "places"
    subjects: str | None = "subjects"
    collections: str | None = "collections"
    formats: str | None = "formats"
    languages: str | None = "languages"
    source: str | None = "source"
    year_start: str | None = "year_start"
    year_end: str | None = "year_end"
    has_image: str | None = "has_image"
    extent_prefix: str | None = "extent"  # <prefix>.west/south/east/north/crosses_antimeridian
    vector: str = "vector"
    model_id: str = "model_id"

    def facet_field(self, facet: str) -> str | None:
        """The field behind an API facet name, or None when this index lacks it."""
        by_facet = {
            "place": self.places,
            "subject": self.subjects,
            "collection": self.collections,
            "format": self.formats,
            "language": self.languages,
            "source": self.source,
            "decade": self.year_start,
            "has_image": self.has_image,
        }
        return by_facet.get(facet)

    def with_english(self) -> FieldMap:
        """Query the English-stemmed subfields (present when the cluster had analysis-common)."""
        return replace(
            self, text_fields={f"{name}.english": w for name, w in self.text_fields.items()}
        )


MAPS_FIELDS = FieldMap()
