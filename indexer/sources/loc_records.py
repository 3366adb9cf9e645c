"""Library of Congress JSON (search results and item records) → MapRecords, parsed defensively:
the same field comes as a string, a list, or a list of {name: facet-url} dicts depending on the
year it was catalogued; image URLs are protocol-relative; catalogue-only records have no image;
multi-sheet items give one record per image."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from indexer.dates import parse_years
from indexer.extent import parse_extent, parse_marc_coordinates
from indexer.iiif.image_api import service_base
from indexer.importers.fields import language_names, unique
from indexer.records import ImageRef, MapRecord, Place
from indexer.sources.iiif_values import strip_html

SOURCE = "loc"
_PCT_SIZE = re.compile(r"/full/pct:([\d.]+)/.*#h=(\d+)&w=(\d+)")
_ITEM_ID = re.compile(r"/(?:item|resource)/([^/?#]+)")
_LCCN_ID = re.compile(r"lccn\.loc\.gov/([^/?#]+)")
# A catalogue record without an LCCN is known only by its catalogue (Voyager) bibliographic id:
# catalog.loc.gov/vwebv/search?...&BBID=17508778 or .../Pwebrecon.cgi?...BBID=17508778.
_CATALOG_BBID = re.compile(r"catalog\.loc\.gov/.*[?&;]BBID=(\d+)", re.IGNORECASE)
# Collections every LoC record is in; they say nothing as a facet.
_NOISE_COLLECTIONS = {"catalog", "american memory", "online catalog"}


def strings(value: Any) -> list[str]:
    """Every string of a drifting LoC field: "x", ["x"], [{"x": "facet url"}], [{"title": "x"}]."""
    if value is None:
        return []
    if isinstance(value, str):
        text = strip_html(value) if "<" in value else value.strip()
        return [text] if text else []
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    if isinstance(value, dict):
        for key in ("title", "name", "label", "value"):
            if key in value:
                return strings(value[key])
        # {"maps": "https://www.loc.gov/search/?fa=subject:maps"}: the name is the key
        return [key.strip() for key in value if isinstance(key, str) and key.strip()]
    return []


def first(value: Any) -> str | None:
    """The first string of a drifting field."""
    found = strings(value)
    return found[0] if found else None


def absolute_url(url: str) -> str:
    """``//cdn.loc.gov/...`` → ``https://cdn.loc.gov/...``; a leading ``http:`` is kept."""
    url = url.strip()
    return "https:" + url if url.startswith("//") else url


def identifier(result: dict[str, Any]) -> str | None:
    """The item's identifier: its LCCN where there is one, else ``bbid-<n>`` from a catalogue
    URL (a catalogue-only record with no LCCN)."""
    for key in ("library_of_congress_control_number", "lccn"):
        value = first(result.get(key))
        if value:
            return value.replace(" ", "")
    for key in ("id", "url"):
        value = first(result.get(key))
        if value:
            match = _ITEM_ID.search(value) or _LCCN_ID.search(value)
            if match:
                return match.group(1)
    for key in ("id", "url"):
        for value in strings(result.get(key)):
            match = _CATALOG_BBID.search(value)
            if match:
                return f"bbid-{match.group(1)}"
    return None


def is_item_url(url: str | None) -> bool:
    """Only loc.gov/item and /resource URLs answer with JSON; lccn.loc.gov is the catalogue."""
    if not url:
        return False
    parts = urlsplit(absolute_url(url))
    return (
        parts.netloc.endswith("loc.gov")
        and "lccn." not in parts.netloc
        and parts.path.startswith(("/item/", "/resource/"))
    )


def image_from_urls(urls: list[str]) -> ImageRef | None:
    """A search result's ``image_url`` variants → the IIIF service (full size from a ``pct:``
    variant's ``#h=&w=``), or the largest plain JPEG; GIF icons and TIFF masters are skipped."""
    iiif = [u for u in urls if "/image-services/iiif/" in u or "/iiif/" in u]
    if iiif:
        width = height = None
        for url in iiif:
            match = _PCT_SIZE.search(url)
            if match:
                scale = float(match.group(1)) / 100
                if scale > 0:
                    height, width = (
                        round(int(match.group(2)) / scale),
                        round(int(match.group(3)) / scale),
                    )
        return ImageRef.remote(
            iiif_service=service_base(absolute_url(iiif[0])), width=width, height=height
        )
    jpegs = [u for u in urls if re.search(r"\.jpe?g($|[#?])", u, re.IGNORECASE)]
    if jpegs:
        return ImageRef.remote(url=absolute_url(jpegs[-1].split("#", 1)[0]))
    return None


def _file_image(files: list[Any]) -> ImageRef | None:
    """One page's file variants (item record ``resources[].files[]``) → an image reference."""
    dicts = [f for f in files if isinstance(f, dict)]
    for file in dicts:
        info = file.get("info")
        if isinstance(info, str) and info:
            return ImageRef.remote(
                iiif_service=service_base(absolute_url(info)),
                width=file.get("width") if isinstance(file.get("width"), int) else None,
                height=file.get("height") if isinstance(file.get("height"), int) else None,
            )
    urls = [absolute_url(f["url"]) for f in dicts if isinstance(f.get("url"), str)]
    ref = image_from_urls(urls)
    if ref is not None and ref.iiif_service:
        sizes: list[tuple[int, int]] = [
            (f["width"], f["height"])
            for f in dicts
            if isinstance(f.get("width"), int) and isinstance(f.get("height"), int)
        ]
        if sizes:
            width, height = max(sizes, key=lambda s: s[0] * s[1])
            ref = ref.model_copy(update={"width": width, "height": height})
    return ref


def item_images(item_response: dict[str, Any]) -> list[ImageRef]:
    """Every page image of an item record, in order (resources → files → variants)."""
    refs: list[ImageRef] = []
    for resource in item_response.get("resources") or []:
        if not isinstance(resource, dict):
            continue
        files = resource.get("files")
        pages = files if isinstance(files, list) else []
        if pages and all(isinstance(f, dict) for f in pages):  # one page given as a flat list
            pages = [pages]
        found = [
            ref for page in pages if isinstance(page, list) for ref in [_file_image(page)] if ref
        ]
        if not found:
            image = resource.get("image")
            ref = image_from_urls([image]) if isinstance(image, str) else None
            found = [ref] if ref else []
        refs.extend(found)
    return refs


def needs_item_record(result: dict[str, Any]) -> bool:
    """Whether the search result lacks what a full record needs: several sheets (only the item
    record lists them) or a digitized image the result does not point at."""
    if not is_item_url(first(result.get("id")) or first(result.get("url"))):
        return False
    resources = result.get("resources")
    if isinstance(resources, list):
        total_files = 0
        for resource in resources:
            files = resource.get("files") if isinstance(resource, dict) else None
            total_files += (
                files if isinstance(files, int) else (len(files) if isinstance(files, list) else 1)
            )
        if len(resources) > 1 or total_files > 1:
            return True
    digitized = result.get("digitized") is True or "image" in [
        s.lower() for s in strings(result.get("online_format"))
    ]
    return digitized and image_from_urls(strings(result.get("image_url"))) is None


def _years(data: dict[str, Any]) -> tuple[int | None, int | None]:
    start, end = parse_years(first(data.get("date")))
    if start is not None:
        return start, end
    spans = [parse_years(d) for d in strings(data.get("dates"))]
    starts = [s for s, _ in spans if s is not None]
    ends = [e for _, e in spans if e is not None]
    return (min(starts), max(ends)) if starts else (None, None)


def _places(data: dict[str, Any]) -> list[Place]:
    city, state, country = (first(data.get(f"location_{k}")) for k in ("city", "state", "country"))
    places = []
    if city or state or country:
        places.append(
            Place(
                name=(city or state or country or "").title(),
                city=city,
                state=state,
                country=country,
            )
        )
    names = unique(strings(data.get("location")))
    known = {p.name.casefold() for p in places}
    places.extend(Place(name=name) for name in names if name.casefold() not in known)
    return places


def _extent(data: dict[str, Any]) -> Any:
    for key in ("latlong", "coordinates"):
        value = first(data.get(key))
        if value:
            extent = parse_marc_coordinates(value) or parse_extent(value)
            if extent:
                return extent
    for note in strings(data.get("notes")):
        if "--" in note and "/" in note:
            extent = parse_marc_coordinates(note)
            if extent:
                return extent
    return None


def _revision(data: dict[str, Any]) -> int:
    stamp = first(data.get("timestamp"))
    if not stamp:
        return 0
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def loc_records(
    result: dict[str, Any], item_response: dict[str, Any] | None = None
) -> list[MapRecord]:
    """Records of one LoC item: one per image (ids ``loc:<lccn>/<n>``, item id ``loc:<lccn>``),
    or one metadata-only record for a catalogue-only item. ``result`` is the search result;
    ``item_response`` the item endpoint's whole answer when it was fetched."""
    item = item_response.get("item") if isinstance(item_response, dict) else None
    data: dict[str, Any] = {**result, **(item if isinstance(item, dict) else {})}
    lccn = identifier(data)
    if not lccn:
        raise ValueError("the record has no identifier")
    item_id = f"{SOURCE}:{lccn}"
    images = item_images(item_response) if isinstance(item_response, dict) else []
    if not images:
        single = image_from_urls(strings(data.get("image_url")))
        images = [single] if single else []
    url = first(data.get("url")) or first(data.get("id"))
    subjects = (
        strings(data.get("subject_headings"))
        or strings(data.get("subject"))
        or strings(data.get("subjects"))
    )
    description = strings(data.get("description")) or strings(data.get("summary"))
    collections = [
        c for c in unique(strings(data.get("partof"))) if c.casefold() not in _NOISE_COLLECTIONS
    ]
    thumbnails = [
        u for u in strings(data.get("image_url")) if not u.lower().endswith((".tif", ".tiff"))
    ]
    year_start, year_end = _years(data)
    raw = {"search_result": result}
    if isinstance(item, dict):
        raw["item"] = item
    shared: dict[str, Any] = {
        "item_id": item_id,
        "source": SOURCE,
        "source_url": absolute_url(url) if url else None,
        "title": first(data.get("title")) or "",
        "other_titles": unique(strings(data.get("other_title"))),
        "description": "\n".join(description),
        "notes": unique(strings(data.get("notes")), strip_period=False),
        "subjects": unique(subjects),
        "formats": unique(strings(data.get("original_format")) + strings(data.get("genre"))),
        "places": _places(data),
        "contributors": unique(
            strings(data.get("contributor_names"))
            or strings(data.get("contributor"))
            or strings(data.get("contributors")),
            strip_period=False,
        ),
        "publisher": first(data.get("created_published")),
        "languages": language_names(strings(data.get("language"))),
        "call_number": first(data.get("call_number")) or first(data.get("shelf_id")),
        "collections": collections,
        "date": first(data.get("date")),
        "year_start": year_start,
        "year_end": year_end,
        "extent": _extent(data),
        "thumbnail_url": absolute_url(thumbnails[0].split("#", 1)[0]) if thumbnails else None,
        "rights": first(data.get("rights_advisory")) or first(data.get("rights")),
        "revision": _revision(data),
        "raw": raw,
    }
    if not images:
        return [MapRecord(id=f"{item_id}/1", **shared)]
    return [
        MapRecord(id=f"{item_id}/{number}", image=ref, **shared)
        for number, ref in enumerate(images, start=1)
    ]
