"""What a job is asked to do, typed: one pydantic model per kind of job (harvest LoC, harvest
IIIF, import a records file, reindex, re-embed), a union discriminated by ``source``. The staff
API and the CLI build these, the runner starts them, the stages read them; the job stores keep
``spec.model_dump()`` (the same JSON the untyped dicts were, so stored jobs still read)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

FACET_PATTERN = re.compile(r"^[A-Za-z_-]+:.+$")
DATES_PATTERN = re.compile(r"^\d{4}/\d{4}$")


def facet_pairs(facets: list[str]) -> list[str]:
    """LoC facets as given, each ``NAME:VALUE`` (ValueError otherwise)."""
    for facet in facets:
        if not FACET_PATTERN.match(facet):
            raise ValueError(f"facet {facet!r} is not NAME:VALUE")
    return facets


def date_range(dates: str | None) -> str | None:
    """A LoC date range ``FROM/TO`` in years, or None (ValueError otherwise)."""
    if dates is not None and not DATES_PATTERN.match(dates):
        raise ValueError("dates must be FROM/TO years, e.g. 1700/1799")
    return dates


MAX_REINDEX_IDS = 10_000


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Read the words printed on each map (the ocr stage, between embed and index); stored
    # vectors are kept. A re-embed (ReembedSpec) ignores it.
    map_text: bool = False

    @property
    def kind(self) -> Literal["harvest", "reindex"]:
        """The job kind staff see (and the one the one-at-a-time rule is keyed by)."""
        return "harvest"

    @property
    def resumable(self) -> bool:
        """True for sources that persist a cursor, so a harvest can stop and continue later."""
        return False

    @property
    def fetches_images(self) -> bool:
        """True when the job's records need their images fetched (not for a reindex)."""
        return bool(getattr(self, "with_images", False))


class HarvestLocSpec(_Spec):
    """A harvest of the Library of Congress JSON API."""

    source: Literal["loc"] = "loc"
    collection: str | None = Field(default=None, max_length=200, description="Collection slug.")
    query: str | None = Field(default=None, max_length=500, description="Search terms (q).")
    facets: list[str] = Field(default_factory=list, max_length=20, description="NAME:VALUE.")
    dates: str | None = Field(default=None, description="FROM/TO years, e.g. 1700/1799.")
    format: str | None = Field(default=None, max_length=50, description="LoC format (maps).")
    limit: int | None = Field(default=None, ge=1, le=10_000_000)
    with_images: bool = True

    @field_validator("facets")
    @classmethod
    def _facets_are_pairs(cls, facets: list[str]) -> list[str]:
        return facet_pairs(facets)

    @field_validator("dates")
    @classmethod
    def _dates_are_a_range(cls, dates: str | None) -> str | None:
        return date_range(dates)

    @property
    def resumable(self) -> bool:
        """LoC harvests keep their cursor."""
        return True


class HarvestIiifSpec(_Spec):
    """A harvest of a IIIF Presentation manifest or collection."""

    source: Literal["iiif"] = "iiif"
    url: str = Field(min_length=1, max_length=2000, description="Manifest or collection URL.")
    limit: int | None = Field(default=None, ge=1, le=10_000_000)
    with_images: bool = True


class ImportRecordsSpec(_Spec):
    """An import of a JSON Lines file of MapRecords through the pipeline."""

    source: Literal["records"] = "records"
    path: str = Field(min_length=1, description="The file, as the worker sees it.")
    limit: int | None = Field(default=None, ge=1, le=10_000_000)
    with_images: bool = True


class ReindexSpec(_Spec):
    """Re-derive documents from their stored records: some (``ids``) or every one (``full``).
    A full reindex after a model change re-embeds (as ``ReembedSpec``)."""

    source: Literal["index"] = "index"
    ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_REINDEX_IDS)
    full: bool = False

    def model_post_init(self, _context: Any) -> None:
        """Exactly one of ``ids`` and ``full``."""
        if bool(self.ids) == self.full:
            raise ValueError("a reindex names either some ids or full=true")

    @property
    def kind(self) -> Literal["harvest", "reindex"]:
        """A reindex."""
        return "reindex"

    @property
    def fetches_images(self) -> bool:
        """A reindex keeps stored vectors; only missing ones are embedded."""
        return False


class ReembedSpec(_Spec):
    """Re-embed every document with the configured model into a new index, swapped in when
    complete (``indexer.reembed``)."""

    source: Literal["reembed"] = "reembed"

    @property
    def kind(self) -> Literal["harvest", "reindex"]:
        """A reindex (one at a time with the others)."""
        return "reindex"


JobSpec = Annotated[
    HarvestLocSpec | HarvestIiifSpec | ImportRecordsSpec | ReindexSpec | ReembedSpec,
    Field(discriminator="source"),
]
_ADAPTER: TypeAdapter[JobSpec] = TypeAdapter(JobSpec)


def parse_job_spec(params: dict[str, Any]) -> JobSpec:
    """The typed spec of stored or submitted parameters (ValidationError when they are not)."""
    return _ADAPTER.validate_python(params)


def spec_params(spec: JobSpec) -> dict[str, Any]:
    """What the job stores keep for a spec (JSON-safe, defaults included)."""
    return spec.model_dump(mode="json")
