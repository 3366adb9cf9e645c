"""Read IIIF Presentation 2.1 / 3.0 values (plain strings, ``@value`` objects, language maps,
HTML) as plain text, and map label/value metadata pairs onto record fields."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from indexer.extent import parse_marc_coordinates
from indexer.records import Extent

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
PREFERRED_LANGUAGES = ("en", "none", "@none", "")


def strip_html(value: str) -> str:
    """Text of an HTML fragment (IIIF allows a small HTML subset in values)."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", value))).strip()


def texts(value: Any) -> list[str]:
    """Every string of a IIIF value: str, list, {"@value"}, or a v3 language map (English and
    language-less values first, then the rest)."""
    if value is None:
        return []
    if isinstance(value, str):
        cleaned = strip_html(value)
        return [cleaned] if cleaned else []
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list):
        return [text for item in value for text in texts(item)]
    if isinstance(value, dict):
        if "@value" in value:
            return texts(value["@value"])
        if "value" in value and "label" not in value:
            return texts(value["value"])
        preferred = [k for k in PREFERRED_LANGUAGES if k in value]
        others = [k for k in value if k not in PREFERRED_LANGUAGES]
        # A language map: keep one language's values (English first), not every translation.
        chosen = preferred[:1] or others[:1]
        return [text for key in chosen for text in texts(value[key])]
    return []


def first_text(value: Any) -> str | None:
    """The first string of a IIIF value, or None."""
    found = texts(value)
    return found[0] if found else None


# Metadata labels (lower-cased, trailing ":" dropped) → record field.
LABEL_FIELDS = {
    "title": "title",
    "titel": "title",
    "alternative title": "other_titles",
    "other title": "other_titles",
    "other titles": "other_titles",
    "contributor": "contributors",
    "contributors": "contributors",
    "creator": "contributors",
    "creators": "contributors",
    "author": "contributors",
    "authors": "contributors",
    "cartographer": "contributors",
    "makers": "contributors",
    "contributor names": "contributors",
    "publisher": "publisher",
    "created published": "date_text",
    "created/published": "date_text",
    "date": "date_text",
    "dates": "date_text",
    "year": "date_text",
    "date created": "date_text",
    "date issued": "date_text",
    "publication date": "date_text",
    "subject": "subjects",
    "subjects": "subjects",
    "subject headings": "subjects",
    "topic": "subjects",
    "place": "places",
    "places": "places",
    "location": "places",
    "locations": "places",
    "spatial": "places",
    "geographic subject": "places",
    "coverage": "coverage",
    "type": "formats",
    "genre": "formats",
    "original format": "formats",
    "resource type": "formats",
    "format": "formats",
    "language": "languages",
    "languages": "languages",
    "description": "notes",
    "notes": "notes",
    "note": "notes",
    "summary": "notes",
    "abstract": "notes",
    "scale": "notes",
    "call number": "call_number",
    "shelf number": "call_number",
    "shelfmark": "call_number",
    "shelf mark": "call_number",
    "rights": "rights",
    "rights and use": "rights",
    "license": "rights",
    "access rights": "rights",
    "coordinates": "coordinates",
    "collection": "collections",
    "part of": "collections",
    "item url": "source_url",
    "available online": "source_url",
    "permalink": "source_url",
}
# Physical formats are not genres; keep "1 map", "electronic" and sizes out of the format facet.
_NOT_A_FORMAT = re.compile(r"^\d|^electronic$|\bcm\b|^image$", re.IGNORECASE)
_TEMPORAL = re.compile(r"^\d{1,4}(th|st|nd|rd)? century$|^\d{3,4}(-\d{2,4})?$", re.IGNORECASE)


@dataclass
class MetadataFields:
    """Record fields gathered from a manifest's label/value pairs."""

    title: str | None = None
    other_titles: list[str] = field(default_factory=list)
    contributors: list[str] = field(default_factory=list)
    publisher: str | None = None
    dates: list[str] = field(default_factory=list)
    temporal: list[str] = field(default_factory=list)
    source_url: str | None = None
    subjects: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    call_number: str | None = None
    rights: str | None = None
    collections: list[str] = field(default_factory=list)
    extent: Extent | None = None


def _coverage(fields: MetadataFields, value: str) -> None:
    extent = parse_marc_coordinates(value)
    if extent is not None:
        fields.extent = fields.extent or extent
    elif value.lower().startswith("scale"):
        fields.notes.append(value)
    elif _TEMPORAL.match(value.rstrip(".")):
        fields.temporal.append(value)
    else:
        fields.places.append(value)


def map_metadata(pairs: Any) -> MetadataFields:
    """Map a ``metadata`` list of {label, value} onto record fields; unknown labels become notes
    only when they look descriptive (citations and URLs are skipped)."""
    fields = MetadataFields()
    if not isinstance(pairs, list):
        return fields
    for pair in pairs:
        if not isinstance(pair, dict):
            continue
        label = (first_text(pair.get("label")) or "").lower().rstrip(":").strip()
        values = texts(pair.get("value"))
        target = LABEL_FIELDS.get(label)
        for value in values:
            if target in ("title", "publisher", "call_number", "rights", "source_url"):
                if getattr(fields, target) is None:
                    setattr(fields, target, value)
            elif target == "date_text":
                fields.dates.append(value)
            elif target == "coverage":
                _coverage(fields, value)
            elif target == "coordinates":
                fields.extent = fields.extent or parse_marc_coordinates(value)
            elif target == "formats":
                if not _NOT_A_FORMAT.search(value):
                    fields.formats.append(value)
            elif target is not None:
                getattr(fields, target).append(value)
    return fields
