"""Parse the bounding-box notations sources use (Solr ``ENVELOPE(W,E,N,S)``, ``W,S,E,N``, WKT,
MARC 255 coordinates, LoC ``latlong``) into an :class:`~indexer.records.Extent`; invalid → None."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from pydantic import ValidationError

from indexer.records import Extent

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_ENVELOPE = re.compile(
    rf"^\s*ENVELOPE\s*\(\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\)\s*$",
    re.IGNORECASE,
)
_WKT = re.compile(r"^\s*(MULTI)?(POLYGON|POINT|LINESTRING)\b", re.IGNORECASE)
_NUMBERS = re.compile(_NUMBER)
# MARC 255 $c: "(W 124°30'--W 114°/N 42°--N 32°)", also with decimal degrees "(E 2.5--E 3.1/N ...)".
_MARC_COORD = re.compile(
    r"([NSEW])\s*(\d{1,3}(?:\.\d+)?)\s*(?:[°ºd]\s*)?(?:(\d{1,2}(?:\.\d+)?)\s*['′]\s*)?(?:(\d{1,2}(?:\.\d+)?)\s*[\"″]\s*)?",
    re.IGNORECASE,
)


def make_extent(west: float, south: float, east: float, north: float) -> Extent | None:
    """An Extent if the four numbers make a valid WGS84 box, else None."""
    values = (west, south, east, north)
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
        return None
    try:
        return Extent(west=west, south=south, east=east, north=north)
    except ValidationError:
        return None


def parse_envelope(text: str) -> Extent | None:
    """Solr/CQL ``ENVELOPE(minX, maxX, maxY, minY)`` — note the W, E, N, S order."""
    match = _ENVELOPE.match(text)
    if not match:
        return None
    west, east, north, south = (float(g) for g in match.groups())
    return make_extent(west, south, east, north)


def parse_bbox(text: str) -> Extent | None:
    """``W,S,E,N`` (commas or spaces), the order of OGC/GeoJSON bboxes and our API's ``bbox``."""
    parts = [p for p in re.split(r"[\s,]+", text.strip()) if p]
    if len(parts) != 4:
        return None
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        return None
    return make_extent(west, south, east, north)


def parse_wkt(text: str) -> Extent | None:
    """Bounding box of a WKT POINT / LINESTRING / POLYGON (or MULTI-) in lon/lat order."""
    if not _WKT.match(text):
        return None
    numbers = [float(n) for n in _NUMBERS.findall(text[text.find("(") :])]
    if not numbers or len(numbers) % 2:
        return None
    lons, lats = numbers[0::2], numbers[1::2]
    return make_extent(min(lons), min(lats), max(lons), max(lats))


def _marc_degrees(hemisphere: str, degrees: str, minutes: str | None, seconds: str | None) -> float:
    value = float(degrees) + float(minutes or 0) / 60 + float(seconds or 0) / 3600
    return -value if hemisphere.upper() in "WS" else value


def parse_marc_coordinates(text: str) -> Extent | None:
    """MARC 255 $c coordinates "(W 124°--W 114°/N 42°--N
    32°)" as LoC and many catalogues give them."""
    if "/" not in text:
        return None
    longitudes_part, latitudes_part = text.split("/", 1)
    longitudes = [
        _marc_degrees(*m.groups())
        for m in _MARC_COORD.finditer(longitudes_part)
        if m.group(1).upper() in "EW"
    ]
    latitudes = [
        _marc_degrees(*m.groups())
        for m in _MARC_COORD.finditer(latitudes_part)
        if m.group(1).upper() in "NS"
    ]
    if len(longitudes) != 2 or len(latitudes) != 2:
        return None
    west, east = longitudes
    return make_extent(west, min(latitudes), east, max(latitudes))


def parse_latlong(text: str) -> Extent | None:
    """LoC ``latlong`` "lat, lon" point → a zero-area extent."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    if len(parts) != 2:
        return None
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    return make_extent(lon, lat, lon, lat)


def parse_extent(value: object) -> Extent | None:
    """Any supported notation (string, or a 4-number W,S,E,N sequence) → Extent, else None."""
    try:
        if isinstance(value, Sequence) and not isinstance(value, str):
            if len(value) == 4 and all(isinstance(v, int | float) for v in value):
                return make_extent(*(float(v) for v in value))
            return None
        if not isinstance(value, str) or not value.strip():
            return None
        text = value.strip()
        upper = text[:12].upper()
        if upper.startswith("ENVELOPE"):
            return parse_envelope(text)
        if _WKT.match(text):
            return parse_wkt(text)
        if re.search(r"[NSEW]\s*\d", text) and "/" in text:
            return parse_marc_coordinates(text)
        return parse_bbox(text) or parse_latlong(text)
    except Exception:  # defensive: a malformed extent must never break an import
        return None
