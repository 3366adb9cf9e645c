"""Serialisations of a result list for download: CSV, JSON, and a IIIF Presentation 3 Collection
whose members are the per-item manifests this app serves."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

from iiif_prezi3 import Manifest

from webapi.search.params import Hit

CSV_COLUMNS = (
    "id",
    "item_id",
    "title",
    "date",
    "year_start",
    "year_end",
    "places",
    "subjects",
    "score",
    "thumbnail_url",
    "source_url",
    "page_url",
)


# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection");
# such cells are written with a leading apostrophe, which spreadsheets show as plain text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# Columns we write as numbers (a negative score or year is a number, not a formula).
NUMERIC_CSV_COLUMNS = frozenset({"year_start", "year_end", "score"})


def formula_safe(text: str) -> str:
    """``text`` as a cell a spreadsheet will not evaluate as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def hits_to_csv(hits: Sequence[Hit], page_url: Callable[[str], str]) -> str:
    """One row per hit; multi-valued fields joined with '; '; text cells formula-safe."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for hit in hits:
        row: dict[str, object] = {
            "id": hit.id,
            "item_id": hit.item_id,
            "title": hit.title,
            "date": hit.date or "",
            "year_start": "" if hit.year_start is None else hit.year_start,
            "year_end": "" if hit.year_end is None else hit.year_end,
            "places": "; ".join(hit.places),
            "subjects": "; ".join(hit.subjects),
            "score": f"{hit.score:.6f}",
            "thumbnail_url": hit.thumbnail_url or "",
            "source_url": hit.source_url or "",
            "page_url": page_url(hit.id),
        }
        writer.writerow(
            {
                column: value
                if column in NUMERIC_CSV_COLUMNS or not isinstance(value, str)
                else formula_safe(value)
                for column, value in row.items()
            }
        )
    return buffer.getvalue()


def hits_to_json(hits: Sequence[Hit], total: int, query: dict[str, Any]) -> str:
    """The hits as the JSON API shapes them, with the query that produced them."""
    body = {
        "total": total,
        "exported": len(hits),
        "query": query,
        "hits": [hit.model_dump(mode="json") for hit in hits],
    }
    return json.dumps(body, ensure_ascii=False, indent=2)


IIIF_PRESENTATION_3_CONTEXT = "http://iiif.io/api/presentation/3/context.json"


def _label(text: str) -> dict[str, list[str]]:
    return {"none": [text or "Untitled"]}


def hits_to_iiif_collection(
    hits: Sequence[Hit], collection_id: str, label: str, manifest_url: Callable[[str], str]
) -> str:
    """A IIIF Presentation 3 Collection referencing one Manifest per hit. Written as plain JSON:
    building it with iiif_prezi3's models cost ~2.6 s of CPU per 1,000 hits (issue 15); the
    tests check the document is the one those models make."""
    items = []
    for hit in hits:
        reference: dict[str, Any] = {
            "id": manifest_url(hit.id),
            "label": _label(hit.title),
            "type": "Manifest",
        }
        if hit.thumbnail_url:
            reference["thumbnail"] = [
                {"id": hit.thumbnail_url, "type": "Image", "format": "image/jpeg"}
            ]
        items.append(reference)
    collection = {
        "@context": IIIF_PRESENTATION_3_CONTEXT,
        "id": collection_id,
        "type": "Collection",
        "label": _label(label),
        "items": items,
    }
    return json.dumps(collection, ensure_ascii=False)


def record_manifest(
    manifest_id: str,
    title: str,
    image_url: str | None,
    iiif_service: str | None,
    width: int | None,
    height: int | None,
    metadata: Sequence[tuple[str, str]] = (),
    homepage: str | None = None,
) -> str:
    """A one-canvas IIIF Presentation 3 Manifest for one map sheet."""
    manifest = Manifest(
        id=manifest_id,
        label=_label(title),
        metadata=[{"label": _label(k), "value": _label(v)} for k, v in metadata if v],
    )
    if homepage:
        manifest.homepage = [
            {"id": homepage, "type": "Text", "label": _label(title), "format": "text/html"}
        ]
    # Canvas needs a size; unknown sizes get a nominal one (viewers rescale to the image).
    canvas_width, canvas_height = width or 1000, height or 1000
    canvas = manifest.make_canvas(
        id=f"{manifest_id}/canvas/1", width=canvas_width, height=canvas_height
    )
    body_url = f"{iiif_service.rstrip('/')}/full/max/0/default.jpg" if iiif_service else image_url
    if body_url:
        annotation_page = canvas.add_image(
            image_url=body_url,
            anno_page_id=f"{manifest_id}/page/1",
            anno_id=f"{manifest_id}/annotation/1",
            format="image/jpeg",
            width=canvas_width,
            height=canvas_height,
        )
        if iiif_service:
            annotation_page.items[0].body.service = [
                {"id": iiif_service.rstrip("/"), "type": "ImageService3", "profile": "level1"}
            ]
    return str(manifest.json(indent=2))
