"""IIIF Presentation 2.1 / 3.0 harvester: walks collections (paged, nested, de-duplicated) and
turns each manifest into one MapRecord per canvas image, item_id = the manifest."""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from indexer.dates import parse_years
from indexer.error_samples import keep_sample
from indexer.iiif.presentation import (
    as_list,
    canvas_images,
    canvases,
    node_id,
    node_type,
    url_of,
)
from indexer.images import fetch_json
from indexer.importers.fields import language_names, unique
from indexer.records import MapRecord, Place
from indexer.settings import Settings
from indexer.sources.iiif_values import first_text, map_metadata, texts

log = logging.getLogger(__name__)
SOURCE = "iiif"

FetchJSON = Callable[[str], Any]
Progress = Callable[["IIIFReport"], None]


class IIIFError(RuntimeError):
    """The URL a harvest starts from is not a readable IIIF manifest or collection."""


@dataclass
class IIIFReport:
    """What one harvest walked: manifests read, records made, failures (sampled)."""

    collections: int = 0
    manifests: int = 0
    records: int = 0
    without_image: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def fail(self, url: str, reason: str) -> None:
        """Count a document that could not be read; keep a sample of reasons."""
        self.failed += 1
        keep_sample(self.errors, f"{url}: {reason}")


# --- records ------------------------------------------------------------------------------


def manifest_records(
    manifest: dict[str, Any], collections: list[str] | None = None
) -> list[MapRecord]:
    """One record per canvas image of a manifest (a manifest without images: one metadata-only
    record), sharing the manifest's metadata and item id."""
    manifest_url = node_id(manifest)
    if not manifest_url:
        raise ValueError("the manifest has no id")
    item_id = f"{SOURCE}:{hashlib.sha1(manifest_url.encode()).hexdigest()[:16]}"
    meta = map_metadata(manifest.get("metadata"))
    title = first_text(manifest.get("label")) or meta.title or ""
    description = texts(manifest.get("summary")) or texts(manifest.get("description"))
    nav_date = manifest.get("navDate") if isinstance(manifest.get("navDate"), str) else None
    dates = meta.dates or ([nav_date] if nav_date else []) or meta.temporal
    spans = [parse_years(d) for d in dates]
    starts = [s for s, _ in spans if s is not None]
    ends = [e for _, e in spans if e is not None]
    if not starts and nav_date:
        start, end = parse_years(nav_date)
        starts, ends = ([start], [end]) if start is not None and end is not None else ([], [])
    rights = (
        url_of(manifest.get("rights"))
        or url_of(manifest.get("license"))
        or meta.rights
        or first_text(
            (manifest.get("requiredStatement") or {}).get("value")
            if isinstance(manifest.get("requiredStatement"), dict)
            else None
        )
        or first_text(manifest.get("attribution"))
    )
    shared: dict[str, Any] = {
        "item_id": item_id,
        "source": SOURCE,
        "source_url": url_of(manifest.get("homepage"))
        or url_of(manifest.get("related"))
        or meta.source_url
        or manifest_url,
        "other_titles": unique(
            meta.other_titles + ([meta.title] if meta.title and meta.title != title else [])
        ),
        "description": "\n".join(description),
        "notes": unique(meta.notes),
        "subjects": unique(meta.subjects),
        "formats": unique(meta.formats),
        "places": [Place(name=name) for name in unique(meta.places)],
        "contributors": unique(meta.contributors, strip_period=False),
        "publisher": meta.publisher,
        "languages": language_names(meta.languages),
        "call_number": meta.call_number,
        "collections": unique((collections or []) + meta.collections),
        "date": dates[0] if dates else None,
        "year_start": min(starts) if starts else None,
        "year_end": max(ends) if ends else None,
        "extent": meta.extent,
        "thumbnail_url": url_of(manifest.get("thumbnail")),
        "rights": rights,
    }
    raw_manifest = {
        k: v for k, v in manifest.items() if k not in ("items", "sequences", "structures")
    }
    records: list[MapRecord] = []
    sheets = [
        (canvas, ref)
        for canvas in canvases(manifest)
        for ref in canvas_images(canvas, manifest_url)
    ]
    for number, (canvas, ref) in enumerate(sheets, start=1):
        label = first_text(canvas.get("label"))
        sheet_title = f"{title} ({label})" if len(sheets) > 1 and label else title
        records.append(
            MapRecord(
                id=f"{item_id}/{number}",
                title=sheet_title,
                image=ref,
                raw={"manifest": raw_manifest, "canvas": canvas},
                **{
                    **shared,
                    "thumbnail_url": url_of(canvas.get("thumbnail")) or shared["thumbnail_url"],
                },
            )
        )
    if not records:
        records.append(
            MapRecord(id=f"{item_id}/1", title=title, raw={"manifest": raw_manifest}, **shared)
        )
    return records


# --- walking collections ------------------------------------------------------------------


def _children(collection: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, url, node) of a collection's members: v2 collections/manifests/members, v3 items,
    and paging links (first/next) as collections."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    for key in ("collections", "manifests", "members", "items"):
        for node in as_list(collection.get(key)):
            if not isinstance(node, dict):
                continue
            url = node_id(node)
            kind = node_type(node) or ("manifest" if key == "manifests" else "collection")
            if url and kind in ("collection", "manifest"):
                found.append((kind, url, node))
    for key in ("first", "next"):
        url = node_id(collection.get(key))
        if url:
            found.append(
                ("collection", url, collection[key] if isinstance(collection[key], dict) else {})
            )
    return found


def _embedded(node: dict[str, Any]) -> bool:
    """A member given in full (not just id + label) need not be fetched."""
    return any(key in node for key in ("sequences", "manifests", "collections", "members")) or (
        "items" in node
        and any(
            isinstance(i, dict) and node_type(i) in ("canvas", "manifest", "collection")
            for i in as_list(node["items"])
        )
    )


def walk_iiif(
    url: str,
    fetch: FetchJSON,
    report: IIIFReport | None = None,
    max_manifests: int = 100_000,
    progress: Progress | None = None,
) -> Iterator[MapRecord]:
    """Records of the manifest or collection at ``url``; every document is read once, failures
    are reported and skipped."""
    report = report if report is not None else IIIFReport()
    queue: deque[tuple[str, dict[str, Any] | None, list[str]]] = deque([(url, None, [])])
    seen: set[str] = set()
    while queue and report.manifests < max_manifests:
        current, node, collections = queue.popleft()
        if current in seen:
            continue
        seen.add(current)
        is_root = current == url
        document = node
        if document is None or not _embedded(document):
            try:
                document = fetch(current)
            except Exception as exc:  # one bad document must not end the harvest
                if is_root:  # ...but nothing at all to harvest is an error, not an empty success
                    message = str(exc) if current in str(exc) else f"{current}: {exc}"
                    raise IIIFError(message) from exc
                report.fail(current, f"{exc.__class__.__name__}: {exc}")
                continue
        if not isinstance(document, dict):
            if is_root:
                raise IIIFError(f"{current}: not a JSON object")
            report.fail(current, "not a JSON object")
            continue
        kind = node_type(document)
        if kind == "collection" or (
            kind not in ("manifest",) and ("first" in document or "manifests" in document)
        ):
            report.collections += 1
            label = first_text(document.get("label"))
            member_of = collections + ([label] if label and label not in collections else [])
            for _child_kind, child_url, child in _children(document):
                if child_url not in seen:
                    queue.append((child_url, child, member_of))
            continue
        if kind != "manifest" and not ("sequences" in document or "items" in document):
            reason = f"neither a manifest nor a collection (type {kind or 'missing'})"
            if is_root:
                raise IIIFError(f"{current}: {reason}")
            report.fail(current, reason)
            continue
        try:
            records = manifest_records(document, collections[-1:])
        except Exception as exc:  # malformed manifest: reported, harvest goes on
            report.fail(current, f"{exc.__class__.__name__}: {exc}")
            continue
        report.manifests += 1
        manifest_id = node_id(document)
        if manifest_id:
            seen.add(manifest_id)
        for record in records:
            report.records += 1
            if not record.has_image:
                report.without_image += 1
            yield record
        if progress is not None:
            progress(report)


def harvest_iiif(
    url: str, settings: Settings, report: IIIFReport | None = None, progress: Progress | None = None
) -> Iterator[MapRecord]:
    """Harvest a IIIF manifest or collection URL through the SSRF-guarded fetcher."""
    return walk_iiif(
        url,
        lambda document_url: fetch_json(document_url, settings),
        report=report,
        max_manifests=settings.iiif_max_manifests,
        progress=progress,
    )
