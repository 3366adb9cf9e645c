"""The record model: one map image ("sheet") as the upstream catalogue describes it, and the
index document built from it (record + vector + provenance)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from indexer.region_set import RegionSet


class Extent(BaseModel):
    """Geographic bounding box in WGS84 degrees; west > east means it crosses the antimeridian."""

    model_config = ConfigDict(frozen=True)

    west: float = Field(ge=-180, le=180)
    south: float = Field(ge=-90, le=90)
    east: float = Field(ge=-180, le=180)
    north: float = Field(ge=-90, le=90)

    @model_validator(mode="after")
    def _south_below_north(self) -> Extent:
        if self.south > self.north:
            raise ValueError("south must not exceed north")
        return self

    @property
    def centroid(self) -> tuple[float, float]:
        """(lat, lon) of the box centre, antimeridian-aware."""
        east = self.east if self.east >= self.west else self.east + 360
        lon = (self.west + east) / 2
        if lon > 180:
            lon -= 360
        return ((self.south + self.north) / 2, lon)


class Place(BaseModel):
    """A place named by the record, with its hierarchy where the source gives it."""

    name: str
    city: str | None = None
    state: str | None = None
    country: str | None = None


def http_url(value: str | None) -> str | None:
    """``value`` if it is an http(s) URL (a protocol-relative one made https), else None."""
    if not value:
        return None
    url = value.strip()
    if url.startswith("//"):
        url = "https:" + url
    return url if url.lower().startswith(("http://", "https://")) else None


class ImageRef(BaseModel):
    """Where the image is: a IIIF Image API service (preferred) or a direct URL / local path.
    Only local importers may give a local path; remote content is built with ``remote``."""

    iiif_service: str | None = None
    url: str | None = None
    width: int | None = None
    height: int | None = None
    manifest_url: str | None = None

    @classmethod
    def remote(
        cls,
        *,
        iiif_service: str | None = None,
        url: str | None = None,
        manifest_url: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> ImageRef | None:
        """A reference from harvested or remotely catalogued content: anything that is not an
        http(s) URL is dropped (a manifest naming ``/etc/passwd`` must not read a local file);
        None when nothing is left."""
        service, direct, manifest = http_url(iiif_service), http_url(url), http_url(manifest_url)
        if not (service or direct or manifest):
            return None
        return cls(
            iiif_service=service, url=direct, manifest_url=manifest, width=width, height=height
        )


class MapWord(BaseModel):
    """One word read from the map image by OCR: its text, its box ``[x, y, w, h]`` in
    full-resolution image pixels, and the engine's confidence (0–1)."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(min_length=1)
    box: tuple[int, int, int, int]
    score: float = Field(ge=0, le=1)


class MapRecord(BaseModel):
    """One sheet as harvested; the upstream catalogue is the source of truth."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=3, description="Source-prefixed stable id, e.g. 'loc:94686002/1'.")
    item_id: str | None = None
    source: str
    source_url: str | None = None
    title: str = ""
    other_titles: list[str] = Field(default_factory=list)
    description: str = ""
    notes: list[str] = Field(default_factory=list)
    subjects: list[str] = Field(default_factory=list)
    formats: list[str] = Field(default_factory=list)
    places: list[Place] = Field(default_factory=list)
    contributors: list[str] = Field(default_factory=list)
    publisher: str | None = None
    languages: list[str] = Field(default_factory=list)
    call_number: str | None = None
    collections: list[str] = Field(default_factory=list)
    date: str | None = Field(default=None, description="Display date exactly as catalogued.")
    year_start: int | None = None
    year_end: int | None = None
    extent: Extent | None = None
    image: ImageRef | None = None
    thumbnail_url: str | None = None
    rights: str | None = None
    revision: int = Field(
        default=0, description="Monotonic source revision; used for versioned writes."
    )
    map_text: list[MapWord] = Field(
        default_factory=list,
        description="Words read from the image (the pipeline's ocr stage), not catalogue text.",
    )
    map_text_engine: str | None = Field(
        default=None,
        description="The OCR engine and reader version that read ``map_text`` (None: never "
        "read); a reindex re-reads a map whose value differs from the current one.",
    )
    raw: dict[str, Any] = Field(
        default_factory=dict, description="Source record, stored not indexed."
    )

    @model_validator(mode="after")
    def _defaults(self) -> MapRecord:
        if self.item_id is None:
            self.item_id = self.id.split("/", 1)[0]
        if self.year_start is not None and self.year_end is None:
            self.year_end = self.year_start
        if self.year_end is not None and self.year_start is None:
            self.year_start = self.year_end
        if (
            self.year_start is not None
            and self.year_end is not None
            and self.year_start > self.year_end
        ):
            self.year_start, self.year_end = self.year_end, self.year_start
        return self

    @property
    def place_names(self) -> list[str]:
        """Flat place names for facets and keyword search."""
        return [p.name for p in self.places]

    @property
    def shows_image(self) -> bool:
        """True when a reader can see an image without resolving anything: a thumbnail, an IIIF
        Image service or an image URL. What the has_image filter means ("only maps with an
        image"); a manifest alone counts once indexing has resolved it to its image."""
        return bool(self.thumbnail_url) or (
            self.image is not None and bool(self.image.iiif_service or self.image.url)
        )

    @property
    def has_image(self) -> bool:
        """True when the record points at an image that can be embedded."""
        # A manifest alone counts: the image loader resolves it to its first canvas image.
        return self.image is not None and bool(
            self.image.iiif_service or self.image.url or self.image.manifest_url
        )


class IndexDocument(BaseModel):
    """What a backend stores: the record plus its vector and where the vector came from."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    record: MapRecord
    vector: np.ndarray | None = Field(default=None, description="Unit-norm float32, shape (dims,).")
    model_id: str | None = None
    image_hash: str | None = None
    indexed_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    regions: RegionSet | None = Field(
        default=None,
        description="Tiles of the sheet embedded by the same model (docs/regions.md); an empty "
        "set: the sheet was tiled and found too small or blank; None: never tiled.",
    )

    @property
    def id(self) -> str:
        """The document id is the record id."""
        return self.record.id
