"""The search surface declared once, as data: the facets and filters, the sorts, the page limits
and the keyword field weights. Backends, request parameters, the CLI and the UI derive from it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from indexer.records import MapRecord

# terms: values stored per document; decade, flag: computed from stored fields; found_in: where
# the words of the query matched a document (catalogue, map, both), so it exists per query.
FacetKind = Literal["terms", "decade", "flag", "found_in"]
FoundIn = Literal["catalogue", "map", "both"]
FOUND_IN_VALUES: tuple[FoundIn, ...] = get_args(FoundIn)


@dataclass(frozen=True)
class Facet:
    """One facet. A ``terms`` facet is also a filter: its ``name`` is the request parameter (and
    CLI option) whose values are OR-ed, and its values are stored in the index field ``field``,
    named after the ``MapRecord`` field that holds them."""

    name: str  # API facet name and filter parameter: ?place=Boston&facet=place
    field: str  # index field (Elasticsearch), stored column (embedded), record field
    label: str  # what readers see in the sidebar
    kind: FacetKind = "terms"
    multi_valued: bool = True  # False: one value per document (stored as a scalar in ES)
    help: str = "Repeatable."  # the CLI option's and the API parameter's description
    # The record's values for a terms facet (None for computed facets).
    values: Callable[[MapRecord], list[str]] | None = None
    # A closed vocabulary (value -> what readers see), in sidebar order; a filter parameter
    # with choices accepts only these values. None: any value the index holds.
    choices: Mapping[str, str] | None = None

    @property
    def filters(self) -> bool:
        """Whether this facet is also a repeatable filter parameter of the same name."""
        return self.kind in ("terms", "found_in")

    def values_of(self, record: MapRecord) -> list[str]:
        """This facet's values in ``record`` (a terms facet only)."""
        assert self.values is not None, f"{self.name} is computed, not read from the record"
        return self.values(record)


# In sidebar order. Adding a terms facet: one entry here (plus its tests); see docs/search.md.
FACETS: tuple[Facet, ...] = (
    # Where the words of q matched each keyword match: in the catalogue record only, on the map
    # only (words read from the image), or both. Only keyword matches count: a map the
    # semantic list alone found is in no bucket, and the filter keeps keyword matches only
    # (it needs q; docs/map-text.md). Not stored: each backend computes it per query.
    Facet(
        "found_in",
        "found_in",
        "Words found in",
        kind="found_in",
        multi_valued=False,
        help="Where the words of q were found: catalogue, map (on the map only) or both. "
        "Repeatable (map + both = found on the map). Keeps keyword matches only; needs q in "
        "keyword or hybrid mode.",
        choices=dict(zip(FOUND_IN_VALUES, ("Catalogue record", "On the map", "Both"), strict=True)),
    ),
    Facet("collection", "collections", "Collection", values=lambda r: r.collections),
    Facet("subject", "subjects", "Subject", values=lambda r: r.subjects),
    Facet("place", "places", "Place", values=lambda r: r.place_names),
    Facet(
        "format",
        "formats",
        "Format",
        help="Genre/format, e.g. 'Nautical charts'. Repeatable.",
        values=lambda r: r.formats,
    ),
    Facet("language", "languages", "Language", values=lambda r: r.languages),
    Facet(
        "source",
        "source",
        "Source",
        multi_valued=False,
        help="Record source, e.g. 'loc'. Repeatable.",
        values=lambda r: [r.source],
    ),
    # Computed: decade buckets year_start by 10 years (value "1780"); has_image is "true"/"false".
    Facet("decade", "year_start", "Decade", kind="decade", multi_valued=False),
    Facet("has_image", "has_image", "Has image", kind="flag", multi_valued=False),
)
FACETS_BY_NAME: dict[str, Facet] = {facet.name: facet for facet in FACETS}
TERMS_FACETS: tuple[Facet, ...] = tuple(f for f in FACETS if f.kind == "terms")
# Facets that are also filter parameters (?place=Boston, ?found_in=map), in sidebar order.
FILTER_FACETS: tuple[Facet, ...] = tuple(f for f in FACETS if f.filters)
FOUND_IN = FACETS_BY_NAME["found_in"]
FACET_NAMES: tuple[str, ...] = tuple(FACETS_BY_NAME)
DECADE = 10  # years per bucket of the decade facet

# Sorts: relevance re-orders nothing (a browse, which has no relevance, sorts by title).
Sort = Literal["relevance", "year", "-year", "title"]
SORT_LABELS: dict[Sort, str] = {
    "relevance": "relevance",
    "year": "oldest first",
    "-year": "newest first",
    "title": "title",
}

# Page limits: results per page, and buckets per requested facet.
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
DEFAULT_FACET_SIZE = 50
MAX_FACET_SIZE = 1000

# Keyword (BM25) fields and their relative weights, identical in every backend; each field's
# text is built by ``keyword_fields`` (then analysed by ``indexer.analysis.analyze``).
KEYWORD_FIELD_WEIGHTS: dict[str, float] = {
    "title": 4.0,
    "subjects_places": 2.0,
    "body": 1.0,
    "contributors": 1.0,
}


# Words read from the map image (indexer.ocr) are their own keyword field, weighted below the
# title (the weight was measured: docs/map-text.md) and matched within one edit for query words
# of 5+ letters (indexer.fuzzy); catalogue fields stay exact.
MAP_TEXT_FIELD = "map_text"
MAP_TEXT_WEIGHT = 1.0


def keyword_fields(record: MapRecord) -> dict[str, str]:
    """The text of each keyword field of ``record`` (deterministic: FTS5 deletes rely on it)."""
    return {
        "title": record.title,
        "subjects_places": " ; ".join(record.subjects + record.place_names),
        "body": " ; ".join([*record.other_titles, record.description, *record.notes]),
        "contributors": " ; ".join(
            record.contributors + ([record.publisher] if record.publisher else [])
        ),
    }
