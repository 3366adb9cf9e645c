"""Request parameters (validated here, published in OpenAPI) and the response shape, derived from
the search surface (``indexer.search_surface``). The HTTP layer, the CLI and the UI all speak
these models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from indexer.search_surface import (
    DEFAULT_FACET_SIZE,
    DEFAULT_PAGE_SIZE,
    FACET_NAMES,
    FILTER_FACETS,
    FOUND_IN,
    MAX_FACET_SIZE,
    MAX_PAGE_SIZE,
    TERMS_FACETS,
    FoundIn,
    Sort,
)
from webapi.search.totals import TotalKind

Mode = Literal["hybrid", "semantic", "keyword"]
Fusion = Literal["rrf", "linear"]
if TYPE_CHECKING:
    FacetName = str
else:  # every facet of the search surface; pydantic checks requests against it
    FacetName = Literal[FACET_NAMES]


class Modifier(BaseModel):
    """A text modifier with a signed weight: "more grayscale" +1.5, "colour" -0.3. Without a
    weight it takes the model's calibrated default (``SearchService.modifier_weight``)."""

    text: str = Field(min_length=1, max_length=200)
    weight: float | None = Field(default=None, ge=-2, le=2)

    @classmethod
    def parse(cls, spec: str) -> Modifier:
        """Parse ``"TEXT:WEIGHT"`` (weight optional: None means the model's default)."""
        text, sep, weight = spec.rpartition(":")
        if not sep:
            return cls(text=spec.strip())
        try:
            number = float(weight)
        except ValueError:  # "ships: 1700s" is all text
            return cls(text=spec.strip())
        return cls(text=text.strip(), weight=number)  # an out-of-range weight is an error, not text

    def spec(self, default_weight: float) -> str:
        """``TEXT:WEIGHT`` with the weight it searches with."""
        weight = self.weight if self.weight is not None else default_weight
        return f"{self.text}:{weight:g}"


def parse_box(text: str) -> tuple[int, int, int, int]:
    """``"x,y,w,h"`` (integers, w and h at least 1, x and y not negative) → a tuple."""
    parts = text.split(",")
    try:
        x, y, w, h = (int(part.strip()) for part in parts)
    except ValueError as exc:
        raise ValueError("image_region must be four integers x,y,w,h") from exc
    if x < 0 or y < 0:
        raise ValueError("image_region must start inside the image (x, y >= 0)")
    if w < 1 or h < 1:
        raise ValueError("image_region must have a width and height of at least 1 pixel")
    return x, y, w, h


class SearchFields(BaseModel):
    """Everything a search can ask for but the terms facet filters (see ``SearchParams``)."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(default=None, max_length=500, description="Words to search for.")
    image_id: str | None = Field(
        default=None,
        max_length=300,
        description="Use this indexed document's image as the example.",
    )
    image_url: str | None = Field(
        default=None, max_length=2000, description="Fetch this image as the example (http/https)."
    )
    image_token: str | None = Field(
        default=None,
        max_length=100,
        description="An uploaded example image, from POST /api/uploads.",
    )
    image_region: str | None = Field(
        default=None,
        max_length=60,
        description="x,y,w,h: search with this box of the example image (image_id: full-"
        "resolution pixels of the indexed map, as hits' regions give them; an upload: pixels of "
        "the image as stored, the upload response's width and height).",
    )
    regions: bool = Field(
        default=True,
        description="Let a map's best region count towards its semantic score (false: whole "
        "maps only); indices without region vectors ignore it.",
    )
    mix: float = Field(
        default=0.0, ge=-1, le=1, description="-1 = only the image, +1 = only the text."
    )
    modify: list[str] = Field(
        default_factory=list,
        max_length=10,
        description=(
            "Repeatable 'text:weight' (weight in [-2, 2]). Without a weight ('grayscale') the"
            " model's calibrated default applies (1.0 for an uncalibrated model); the response's"
            " query echoes every modifier with the weight it searched with."
        ),
    )
    mode: Mode = "hybrid"
    fusion: Fusion = "rrf"
    year_from: int | None = Field(default=None, ge=-3000, le=3000)
    year_to: int | None = Field(default=None, ge=-3000, le=3000)
    bbox: str | None = Field(default=None, description="W,S,E,N in degrees.")
    has_image: bool | None = None
    facet: list[FacetName] = Field(default_factory=list)
    facet_size: int = Field(
        default=DEFAULT_FACET_SIZE,
        ge=1,
        le=MAX_FACET_SIZE,
        description="Buckets per requested facet (long lists: the UI filters them).",
    )
    min_similarity: float | None = Field(default=None, ge=-1, le=1)
    size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    page: int = Field(default=1, ge=1)
    sort: Sort = "relevance"
    collapse: bool = False
    explain: bool = False

    @field_validator("modify")
    @classmethod
    def _modifiers_parse(cls, value: list[str]) -> list[str]:
        # Validated here; the weight a modifier without one searches with is the model's default,
        # which the search echoes (query.modify), so it is never silent.
        return [
            m.text if m.weight is None else f"{m.text}:{m.weight:g}"
            for m in (Modifier.parse(spec) for spec in value)
        ]

    @field_validator("bbox")
    @classmethod
    def _bbox_four_numbers(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = value.split(",")
        if len(parts) != 4:
            raise ValueError("bbox must be W,S,E,N")
        west, south, east, north = (float(p) for p in parts)
        if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
            raise ValueError("bbox out of range: W,E in [-180,180], -90 <= S <= N <= 90")
        return value

    @field_validator("image_region")
    @classmethod
    def _region_four_integers(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parse_box(value)
        return value

    @model_validator(mode="after")
    def _years_ordered(self) -> SearchFields:
        if (
            self.year_from is not None
            and self.year_to is not None
            and self.year_from > self.year_to
        ):
            raise ValueError("year_from must not exceed year_to")
        return self

    @property
    def term_filters(self) -> dict[str, tuple[str, ...]]:
        """The terms facet filters asked for, by facet name (facets without values left out)."""
        asked = {facet.name: tuple(getattr(self, facet.name)) for facet in TERMS_FACETS}
        return {name: values for name, values in asked.items() if values}

    @property
    def found_in_values(self) -> tuple[FoundIn, ...]:
        """The ``found_in`` filter's values (empty: no such filter)."""
        return tuple(dict.fromkeys(getattr(self, FOUND_IN.name, ())))

    @property
    def modifiers(self) -> list[Modifier]:
        """Parsed modifiers."""
        return [Modifier.parse(spec) for spec in self.modify]

    @property
    def image_box(self) -> tuple[int, int, int, int] | None:
        """image_region as (x, y, w, h)."""
        return parse_box(self.image_region) if self.image_region else None

    @property
    def bbox_tuple(self) -> tuple[float, float, float, float] | None:
        """bbox as (W, S, E, N) floats."""
        if not self.bbox:
            return None
        west, south, east, north = (float(p) for p in self.bbox.split(","))
        return (west, south, east, north)


# One repeatable filter parameter per filter facet, named after it: ?place=Boston&place=Salem,
# ?found_in=map; a facet with a closed vocabulary accepts only its values.
if TYPE_CHECKING:
    SearchParams = SearchFields
else:
    SearchParams = create_model(
        "SearchParams",
        __base__=SearchFields,
        __module__=__name__,
        __doc__="Everything a search can ask for (GET query string, POST JSON or multipart form).",
        **{
            facet.name: (
                list[Literal[tuple(facet.choices)]] if facet.choices else list[str],
                Field(default_factory=list, description=facet.help),
            )
            for facet in FILTER_FACETS
        },
    )


class ListExplain(BaseModel):
    """A hit's place in one ranked list."""

    rank: int | None = None
    score: float | None = None


class RegionExplain(BaseModel):
    """How the whole map and its best region made a hit's semantic score."""

    won: Literal["whole", "region"] = Field(description="Which similarity the score came from.")
    combine: Literal["max", "blend"]
    whole_score: float | None = None
    region_score: float | None = None
    region_rank: int | None = Field(
        default=None, description="The map's rank when maps are ranked by best region alone."
    )
    region_box: list[int] | None = None


class HitExplain(BaseModel):
    """Why a hit is where it is."""

    keyword: ListExplain
    semantic: ListExplain
    fused: float
    regions: RegionExplain | None = None


class HitRegion(BaseModel):
    """A region of the map that matches the query."""

    box: list[int] = Field(description="x, y, w, h in full-resolution pixels of the image.")
    score: float = Field(description="Cosine similarity of the region with the query.")
    level: int = Field(description="Grid level it was cut at (tiles per side).")
    iiif_region_url: str | None = Field(
        default=None, description="The IIIF Image API request for the box, when there is one."
    )


class MapWordHit(BaseModel):
    """A word read from the map image: its text, its box [x, y, w, h] in full-resolution image
    pixels, and the reading's confidence (0–1)."""

    text: str
    box: list[int]
    score: float


class Hit(BaseModel):
    """One result."""

    id: str
    item_id: str
    title: str
    date: str | None = None
    year_start: int | None = None
    year_end: int | None = None
    places: list[str] = Field(default_factory=list)
    subjects: list[str] = Field(default_factory=list)
    thumbnail_url: str | None = None
    manifest_url: str | None = Field(
        default=None,
        description="The record's IIIF manifest, when it names its image only there (a browser"
        " can resolve the image from it when thumbnail_url is empty).",
    )
    source_url: str | None = None
    image_width: int | None = Field(default=None, description="Full-resolution width, if known.")
    image_height: int | None = None
    score: float
    regions: list[HitRegion] = Field(
        default_factory=list, description="Best matching regions (semantic hits), best first."
    )
    explain: HitExplain | None = None
    map_text: list[MapWordHit] = Field(
        default_factory=list,
        description="Words on the map the query matched (at most 5), with their boxes.",
    )
    found_in: FoundIn | None = Field(
        default=None,
        description="Where the query's words were found: catalogue record, on the map, or both "
        "(null for a map only the semantic list found).",
    )


class FacetValue(BaseModel):
    """A facet bucket."""

    value: str
    count: int


class YearSuggestion(BaseModel):
    """A year, decade or range typed into ``q``: offered
    as a year filter, not required as a word."""

    year_from: int
    year_to: int
    text: str = Field(description="The years as typed, e.g. '1850s'.")


class SearchResponse(BaseModel):
    """The JSON API's (and ``mapsearch search --json``'s) response."""

    total: int = Field(
        description="Size of the result set (keyword matches and semantic matches above the "
        "similarity bar, after filters); with total_kind=best_matches, the best-ranked maps only."
    )
    total_kind: TotalKind = Field(
        default="exact",
        description="exact: total counts every match; best_matches: the semantic list had no "
        "similarity bar (an example image, or an uncalibrated model), so total is how many "
        "best-ranked maps were kept, not how many match.",
    )
    reachable: int = Field(
        default=0,
        description="Hits that paging reaches: the ranked window (at most the candidate window), "
        "or every match of a browse. When total exceeds it: 'total matches, best reachable shown'.",
    )
    last_page: int = Field(
        default=1, description="The last page that holds hits; the pager links no further."
    )
    window_notice: str | None = Field(
        default=None,
        description="On the last page of a ranking cut at the candidate window: how to see the "
        "rest (narrow the search).",
    )
    page: int
    size: int
    hits: list[Hit]
    no_image_vectors: str | None = Field(
        default=None,
        description="Set when the search asked for ranking by what maps look like but the "
        "collection has no image vectors: says what the results are instead.",
    )
    year_suggestion: YearSuggestion | None = Field(
        default=None,
        description="Years found in q (not required as words): the year filter they suggest.",
    )
    facets: dict[str, list[FacetValue]] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    took_ms: float
