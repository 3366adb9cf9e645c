"""The search surface declared once: request parameters (validated here, published in OpenAPI)
and the response shape. The HTTP layer, the CLI and the UI all speak these models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Mode = Literal["hybrid", "semantic", "keyword"]
Fusion = Literal["rrf", "linear"]
Sort = Literal["relevance", "year", "-year", "title"]
FacetName = Literal[
    "place", "subject", "collection", "format", "language", "source", "decade", "has_image"
]


class Modifier(BaseModel):
    """A text modifier with a signed weight: "more grayscale" +0.5, "colour" -0.3."""

    text: str = Field(min_length=1, max_length=200)
    weight: float = Field(ge=-2, le=2)

    @classmethod
    def parse(cls, spec: str) -> Modifier:
        """Parse ``"TEXT:WEIGHT"`` (weight optional, default +0.5)."""
        text, sep, weight = spec.rpartition(":")
        if not sep:
            return cls(text=spec.strip(), weight=0.5)
        try:
            number = float(weight)
        except ValueError:  # "ships: 1700s" is all text
            return cls(text=spec.strip(), weight=0.5)
        return cls(text=text.strip(), weight=number)  # an out-of-range weight is an error, not text


class SearchParams(BaseModel):
    """Everything a search can ask for (GET query string, POST JSON or multipart form)."""

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
    mix: float = Field(
        default=0.0, ge=-1, le=1, description="-1 = only the image, +1 = only the text."
    )
    modify: list[str] = Field(
        default_factory=list, max_length=10, description="Repeatable 'text:weight'."
    )
    mode: Mode = "hybrid"
    fusion: Fusion = "rrf"
    year_from: int | None = Field(default=None, ge=-3000, le=3000)
    year_to: int | None = Field(default=None, ge=-3000, le=3000)
    place: list[str] = Field(default_factory=list)
    subject: list[str] = Field(default_factory=list)
    collection: list[str] = Field(default_factory=list)
    format: list[str] = Field(default_factory=list)
    language: list[str] = Field(default_factory=list)
    source: list[str] = Field(default_factory=list)
    bbox: str | None = Field(default=None, description="W,S,E,N in degrees.")
    has_image: bool | None = None
    facet: list[FacetName] = Field(default_factory=list)
    facet_size: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Buckets per requested facet (long lists: the UI filters them).",
    )
    min_similarity: float | None = Field(default=None, ge=-1, le=1)
    size: int = Field(default=20, ge=1, le=100)
    page: int = Field(default=1, ge=1)
    sort: Sort = "relevance"
    collapse: bool = False
    explain: bool = False

    @field_validator("modify")
    @classmethod
    def _modifiers_parse(cls, value: list[str]) -> list[str]:
        for spec in value:
            Modifier.parse(spec)
        return value

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

    @model_validator(mode="after")
    def _years_ordered(self) -> SearchParams:
        if (
            self.year_from is not None
            and self.year_to is not None
            and self.year_from > self.year_to
        ):
            raise ValueError("year_from must not exceed year_to")
        return self

    @property
    def modifiers(self) -> list[Modifier]:
        """Parsed modifiers."""
        return [Modifier.parse(spec) for spec in self.modify]

    @property
    def bbox_tuple(self) -> tuple[float, float, float, float] | None:
        """bbox as (W, S, E, N) floats."""
        if not self.bbox:
            return None
        west, south, east, north = (float(p) for p in self.bbox.split(","))
        return (west, south, east, north)


class ListExplain(BaseModel):
    """A hit's place in one ranked list."""

    rank: int | None = None
    score: float | None = None


class HitExplain(BaseModel):
    """Why a hit is where it is."""

    keyword: ListExplain
    semantic: ListExplain
    fused: float


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
    source_url: str | None = None
    score: float
    explain: HitExplain | None = None


class FacetValue(BaseModel):
    """A facet bucket."""

    value: str
    count: int


class SearchResponse(BaseModel):
    """The JSON API's (and ``mapsearch search --json``'s) response."""

    total: int
    page: int
    size: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    took_ms: float
