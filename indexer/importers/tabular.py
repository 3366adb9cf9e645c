"""CSV and JSON Lines importers with the documented flat columns (docs/importing.md); in CSV,
list columns hold several values separated by ``|``, in JSONL they are JSON lists."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from indexer.dates import parse_years
from indexer.extent import parse_extent
from indexer.importers.fields import language_names, optional_int, text, texts, unique
from indexer.importers.files import iter_json_lines, open_text
from indexer.importers.report import BrokenRecord, ImportReport
from indexer.records import ImageRef, MapRecord, Place

LIST_COLUMNS = (
    "other_titles",
    "notes",
    "subjects",
    "formats",
    "places",
    "contributors",
    "languages",
    "collections",
)
TEXT_COLUMNS = (
    "item_id",
    "source_url",
    "title",
    "description",
    "publisher",
    "call_number",
    "date",
    "rights",
    "thumbnail_url",
)
IMAGE_COLUMNS = ("image_url", "iiif_service", "manifest_url")
MULTI_VALUE_SEPARATOR = "|"


def _places(value: Any) -> list[Place]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    places: list[Place] = []
    for item in items:
        if isinstance(item, dict):
            name = text(item.get("name"), "places.name")
            if not name:
                raise BrokenRecord("every place object needs a name")
            places.append(
                Place(
                    name=name,
                    city=text(item.get("city"), "places.city"),
                    state=text(item.get("state"), "places.state"),
                    country=text(item.get("country"), "places.country"),
                )
            )
        else:
            places.extend(Place(name=name) for name in unique(texts(item, "places")))
    return places


def _resolve_local(path_or_url: str | None, base_dir: Path) -> str | None:
    """A relative image path is taken relative to the import file's folder when it exists there;
    otherwise it stays relative (to the data directory, as the demo collection's paths are)."""
    if not path_or_url or "://" in path_or_url or Path(path_or_url).is_absolute():
        return path_or_url
    candidate = base_dir / path_or_url
    return str(candidate.resolve()) if candidate.is_file() else path_or_url


def row_to_record(
    row: dict[str, Any], default_source: str, base_dir: Path, id_prefix: str | None = None
) -> tuple[MapRecord, list[str]]:
    """One flat row (CSV dict or JSON object) → (record, warnings); raises BrokenRecord."""
    warnings: list[str] = []
    raw_id = text(row.get("id"), "id")
    if not raw_id:
        raise BrokenRecord("missing id")
    source = text(row.get("source"), "source") or default_source
    # An id that already names its source ("rumsey:123") keeps it; otherwise it gets one.
    record_id = (
        raw_id if (":" in raw_id and id_prefix is None) else f"{id_prefix or source}:{raw_id}"
    )

    fields: dict[str, Any] = {name: text(row.get(name), name) for name in TEXT_COLUMNS}
    if fields["item_id"] and ":" not in fields["item_id"]:
        fields["item_id"] = f"{id_prefix or source}:{fields['item_id']}"
    lists = {
        name: unique(texts(row.get(name), name), strip_period=name not in ("contributors", "notes"))
        for name in LIST_COLUMNS
        if name != "places"
    }
    lists["languages"] = language_names(lists["languages"])

    year_start = optional_int(row.get("year_start"), "year_start")
    year_end = optional_int(row.get("year_end"), "year_end")
    if year_start is None and year_end is None and fields["date"]:
        year_start, year_end = parse_years(fields["date"])

    bbox = row.get("bbox")
    extent = parse_extent(bbox) if bbox not in (None, "") else None
    if bbox not in (None, "") and extent is None:
        warnings.append(f"unreadable bbox {str(bbox)[:80]!r}; kept without extent")

    image_url, iiif_service, manifest_url = (text(row.get(name), name) for name in IMAGE_COLUMNS)
    image = None
    if image_url or iiif_service or manifest_url:
        image = ImageRef(
            url=_resolve_local(image_url, base_dir),
            iiif_service=iiif_service,
            manifest_url=manifest_url,
            width=optional_int(row.get("width"), "width"),
            height=optional_int(row.get("height"), "height"),
        )
    values: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    values.update(lists)
    record = MapRecord(
        id=record_id,
        source=source,
        places=_places(row.get("places")),
        year_start=year_start,
        year_end=year_end,
        extent=extent,
        image=image,
        revision=optional_int(row.get("revision"), "revision") or 0,
        raw=dict(row),
        **values,
    )
    return record, warnings


def _emit(
    where: str,
    row: dict[str, Any],
    report: ImportReport,
    source: str,
    base_dir: Path,
    id_prefix: str | None,
) -> MapRecord | None:
    try:
        record, warnings = row_to_record(row, source, base_dir, id_prefix)
    except BrokenRecord as exc:
        report.record_broken(where, str(exc))
        return None
    except ValidationError as exc:
        report.record_invalid(where, exc)
        return None
    report.record_ok(where, record, warnings)
    return record


def _split_csv_row(row: dict[str, Any]) -> dict[str, Any]:
    split: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:  # more cells than header columns
            raise BrokenRecord(f"{len(value)} more cell(s) than the header has columns")
        key = key.strip()
        if value is None:
            continue
        if key in LIST_COLUMNS:
            split[key] = [
                part.strip() for part in value.split(MULTI_VALUE_SEPARATOR) if part.strip()
            ]
        else:
            split[key] = value
    return split


def csv_records(
    path: str | Path, report: ImportReport, id_prefix: str | None = None
) -> Iterator[MapRecord]:
    """Records of a CSV(.gz) file with a header row; broken rows go to ``report``."""
    base_dir = Path(path).resolve().parent
    with open_text(path) as stream:
        reader = csv.DictReader(stream)
        if not reader.fieldnames or "id" not in [name.strip() for name in reader.fieldnames]:
            report.record_broken("line 1", "the header has no 'id' column")
            return
        for row in reader:
            where = f"line {reader.line_num}"
            try:
                split = _split_csv_row(row)
            except BrokenRecord as exc:
                report.record_broken(where, str(exc))
                continue
            record = _emit(where, split, report, "csv", base_dir, id_prefix)
            if record is not None:
                yield record


def jsonl_records(
    path: str | Path, report: ImportReport, id_prefix: str | None = None
) -> Iterator[MapRecord]:
    """Records of a JSON Lines(.gz) file, one object per line; broken lines go to ``report``."""
    base_dir = Path(path).resolve().parent
    for where, value in iter_json_lines(path):
        if isinstance(value, BrokenRecord):
            report.record_broken(where, str(value))
            continue
        record = _emit(where, value, report, "jsonl", base_dir, id_prefix)
        if record is not None:
            yield record


def record_to_row(record: MapRecord) -> dict[str, Any]:
    """The JSONL row of a record (the inverse of the importer, for exports and fixtures)."""
    row = record.model_dump(exclude={"raw", "image", "extent", "places"}, exclude_none=True)
    row["places"] = [p.model_dump(exclude_none=True) for p in record.places]
    if record.extent:
        row["bbox"] = [
            record.extent.west,
            record.extent.south,
            record.extent.east,
            record.extent.north,
        ]
    if record.image:
        row.update(
            {
                "image_url": record.image.url,
                "iiif_service": record.image.iiif_service,
                "manifest_url": record.image.manifest_url,
                "width": record.image.width,
                "height": record.image.height,
            }
        )
    return {k: v for k, v in row.items() if v not in (None, [], "")}


def dumps_row(record: MapRecord) -> str:
    """One JSONL line for a record."""
    return json.dumps(record_to_row(record), ensure_ascii=False)
