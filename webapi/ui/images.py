"""Image URLs for the browser: IIIF size requests and ``srcset`` for IIIF records, the app's own
image route otherwise, and the tile source the item page's zoomable viewer opens."""

from __future__ import annotations

import re
from typing import Any

# A IIIF Image API URL: {service}/{region}/{size}/{rotation}/{quality}.{format}
_IIIF_IMAGE_URL = re.compile(
    r"^(?P<service>https?://.+?)/(?:full|square|\d+,\d+,\d+,\d+|pct:[\d.,]+)/[^/]+/!?\d+(?:\.\d+)?/"
    r"(?:default|color|gray|grey|native|bitonal)\.(?:jpg|jpeg|png|webp|gif)$"
)
THUMB_WIDTHS = (200, 400, 800)
# A thumbnail made at index time (indexer/images/thumbnails.py): /thumbnails/../HASH-300.webp
_LOCAL_THUMBNAIL = re.compile(r"^(?P<stem>/thumbnails/[0-9a-f]{2}/[0-9a-f]+)-300\.webp$")


def iiif_service_of(url: str | None) -> str | None:
    """The IIIF Image service base of an image request URL, or None when it is not one."""
    if not url:
        return None
    match = _IIIF_IMAGE_URL.match(url)
    return match.group("service") if match else None


def iiif_size_url(service: str, width: int) -> str:
    """A whole-image request that fits within ``width`` x ``width`` (aspect kept)."""
    return f"{service.rstrip('/')}/full/!{width},{width}/0/default.jpg"


def thumbnail(url: str | None, service: str | None = None) -> dict[str, Any]:
    """``src`` and ``srcset`` for a result card; IIIF records get 200/400/800 px variants."""
    local = _LOCAL_THUMBNAIL.match(url or "")
    if local and not service:
        stem = local.group("stem")
        return {"src": url, "srcset": f"{stem}-300.webp 300w, {stem}-600.webp 600w"}
    service = service or iiif_service_of(url)
    if service:
        return {
            "src": iiif_size_url(service, THUMB_WIDTHS[0]),
            "srcset": ", ".join(f"{iiif_size_url(service, w)} {w}w" for w in THUMB_WIDTHS),
        }
    return {"src": url, "srcset": None}


def tile_source(service: str | None, image_url: str | None) -> dict[str, Any] | None:
    """OpenSeadragon's tile source: the IIIF info.json (deep zoom) or a single simple image."""
    if service:
        return {"kind": "iiif", "url": f"{service.rstrip('/')}/info.json"}
    if image_url:
        return {"kind": "image", "url": image_url}
    return None
