"""GeoBlacklight / OpenGeoMetadata Aardvark records → MapRecords (one per record; its IIIF
manifest or image service, when present, points at the image)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from indexer.dates import parse_years
from indexer.extent import parse_extent
from indexer.importers.fields import (
    language_names,
    revision_from_timestamp,
    text,
    texts,
    unique,
)
from indexer.importers.files import iter_json_documents
from indexer.importers.report import BrokenRecord, ImportReport
from indexer.records import ImageRef, MapRecord, Place

SOURCE = "aardvark"
REF_MANIFEST = "http://iiif.io/api/presentation#manifest"
REF_IMAGE_SERVICE = "http://iiif.io/api/image"
REF_THUMBNAIL = "http://schema.org/thumbnailUrl"
REF_LANDING = "http://schema.org/url"


def aardvark_records(
    path: str | Path, report: ImportReport, id_prefix: str | None = None
) -> Iterator[MapRecord]:
    """Records of an Aardvark JSONL(.gz) file, JSON file or folder; broken ones go to ``report``."""
    for where, document in iter_json_documents(path):
        if isinstance(document, BrokenRecord):
            report.record_broken(where, str(document))
            continue
        try:
            record, warnings = aardvark_to_record(document, id_prefix or SOURCE)
        except BrokenRecord as exc:
            report.record_broken(where, str(exc))
            continue
        except ValidationError as exc:
            report.record_invalid(where, exc)
            continue
        report.record_ok(where, record, warnings)
        yield record


def parse_references(value: Any) -> dict[str, Any]:
    """``dct_references_s``: a JSON string (or, leniently, an object) of URI → URL."""
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise BrokenRecord("dct_references_s must be a JSON string")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise BrokenRecord(f"dct_references_s is not valid JSON ({exc.msg})") from exc
    if not isinstance(parsed, dict):
        raise BrokenRecord("dct_references_s must be a JSON object")
    return parsed


def _reference_url(references: dict[str, Any], key: str) -> str | None:
    value = references.get(key)
    if isinstance(value, list):  # some harvesters give [{"url": ..., "label": ...}]
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url")
    return value.strip() if isinstance(value, str) and value.strip() else None


Years = tuple[int | None, int | None]


def _index_years(doc: dict[str, Any]) -> Years:
    index_years = doc.get("gbl_indexYear_im")
    if isinstance(index_years, int) and not isinstance(index_years, bool):
        index_years = [index_years]
    if isinstance(index_years, list):
        numbers = [
            int(y) for y in index_years if isinstance(y, int | str) and str(y).lstrip("-").isdigit()
        ]
        if numbers:
            return min(numbers), max(numbers)
    return None, None


def _span(values: list[str]) -> Years:
    years = [parse_years(value) for value in values]
    starts = [s for s, _ in years if s is not None]
    ends = [e for _, e in years if e is not None]
    return (min(starts), max(ends) if ends else None) if starts else (None, None)


def _within(inner: Years, outer: Years) -> bool:
    return (
        None not in inner and None not in outer and outer[0] <= inner[0] <= inner[1] <= outer[1]  # type: ignore[operator]
    )


def _date(doc: dict[str, Any]) -> tuple[str | None, int | None, int | None]:
    """(display date, year_start, year_end) from one source, so the date shown is the date the
    filters use. Order: ``gbl_indexYear_im`` (curated), ``dct_temporal_sm`` (the map's time),
    ``dct_issued_s`` (often the digital object's year, so only when it agrees with the temporal
    coverage or nothing else is there), ``gbl_dateRange_drsim``. See docs/importing.md."""
    issued = text(doc.get("dct_issued_s"), "dct_issued_s")
    temporal = texts(doc.get("dct_temporal_sm"), "dct_temporal_sm")
    issued_years = parse_years(issued) if issued else (None, None)
    temporal_years = _span(temporal)
    start, end = _index_years(doc)
    if start is not None:
        # show the catalogue's own wording when it names exactly the indexed years
        for label, years in ((", ".join(temporal), temporal_years), (issued, issued_years)):
            if label and years == (start, end):
                return label, start, end
        return (str(start) if start == end else f"{start}–{end}"), start, end
    if temporal_years[0] is not None:
        if issued and _within(issued_years, temporal_years):  # "1885" within "19th century"
            return issued, issued_years[0], issued_years[1]
        return ", ".join(temporal), temporal_years[0], temporal_years[1]
    if issued_years[0] is not None:
        return issued, issued_years[0], issued_years[1]
    ranges = _span(texts(doc.get("gbl_dateRange_drsim"), "gbl_dateRange_drsim"))
    if ranges[0] is not None:
        label = str(ranges[0]) if ranges[0] == ranges[1] else f"{ranges[0]}–{ranges[1]}"
        return label, ranges[0], ranges[1]
    return issued or (", ".join(temporal) if temporal else None), None, None


def aardvark_to_record(doc: dict[str, Any], id_prefix: str = SOURCE) -> tuple[MapRecord, list[str]]:
    """One Aardvark document → (record, warnings); raises BrokenRecord when it cannot be used."""
    warnings: list[str] = []
    raw_id = doc.get("id")
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise BrokenRecord("missing id" if raw_id in (None, "") else "id must be a string")
    title = text(doc.get("dct_title_s"), "dct_title_s")
    if not title:
        raise BrokenRecord("missing dct_title_s")
    record_id = f"{id_prefix}:{raw_id.strip()}"

    references = parse_references(doc.get("dct_references_s"))
    manifest = _reference_url(references, REF_MANIFEST)
    image_service = _reference_url(references, REF_IMAGE_SERVICE)
    thumbnail = _reference_url(references, REF_THUMBNAIL)
    image = ImageRef.remote(iiif_service=image_service, manifest_url=manifest)

    geometry = doc.get("locn_geometry") or doc.get("dcat_bbox")
    extent = parse_extent(geometry) if geometry is not None else None
    if geometry is not None and extent is None:
        warnings.append(f"unreadable geometry {str(geometry)[:80]!r}; kept without extent")

    date, year_start, year_end = _date(doc)
    rights = texts(doc.get("dct_rights_sm"), "dct_rights_sm") or texts(
        doc.get("dct_license_sm"), "dct_license_sm"
    )
    access = text(doc.get("dct_accessRights_s"), "dct_accessRights_s")

    record = MapRecord(
        id=record_id,
        item_id=record_id,
        source=SOURCE,
        source_url=_reference_url(references, REF_LANDING),
        title=title,
        other_titles=unique(texts(doc.get("dct_alternative_sm"), "dct_alternative_sm")),
        description="\n".join(texts(doc.get("dct_description_sm"), "dct_description_sm")),
        subjects=unique(
            texts(doc.get("dct_subject_sm"), "dct_subject_sm")
            + texts(doc.get("dcat_theme_sm"), "dcat_theme_sm")
        ),
        formats=unique(
            texts(doc.get("gbl_resourceClass_sm"), "gbl_resourceClass_sm")
            + texts(doc.get("gbl_resourceType_sm"), "gbl_resourceType_sm")
        ),
        places=[
            Place(name=name) for name in unique(texts(doc.get("dct_spatial_sm"), "dct_spatial_sm"))
        ],
        contributors=unique(texts(doc.get("dct_creator_sm"), "dct_creator_sm"), strip_period=False),
        publisher=text(doc.get("dct_publisher_sm"), "dct_publisher_sm"),
        languages=language_names(texts(doc.get("dct_language_sm"), "dct_language_sm")),
        collections=unique(
            texts(doc.get("pcdm_memberOf_sm"), "pcdm_memberOf_sm")
            + texts(doc.get("dct_isPartOf_sm"), "dct_isPartOf_sm")
        ),
        date=date,
        year_start=year_start,
        year_end=year_end,
        extent=extent,
        image=image,
        thumbnail_url=thumbnail,
        rights=rights[0] if rights else access,
        revision=revision_from_timestamp(doc.get("gbl_mdModified_dt")),
        raw=doc,
    )
    return record, warnings
