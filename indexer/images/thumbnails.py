"""Thumbnails made at index time: small WebP renditions of a record's image, named by the image's
content hash under ``data_dir/thumbnails`` (so a name never changes its pixels and browsers may
cache it for good), for records whose image server cannot make them (no IIIF service)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image

from indexer.records import MapRecord

THUMBNAILS_DIR = "thumbnails"
# 300 px for result cards (220 CSS px), 600 px for high-density screens (srcset).
THUMBNAIL_WIDTHS = (300, 600)
WEBP_QUALITY = 60  # thumbnails: a fifth smaller than 72, no visible loss at 220 px


def thumbnail_path(content_hash: str, width: int) -> str:
    """The thumbnail's path relative to the data dir (also its URL path on this site)."""
    return f"{THUMBNAILS_DIR}/{content_hash[:2]}/{content_hash}-{width}.webp"


def wants_thumbnail(record: MapRecord) -> bool:
    """True when the index should make the thumbnail: the record names none of its own (or one
    made here before) and has no IIIF service to ask for sizes."""
    own = record.thumbnail_url
    if own and not own.startswith(f"{THUMBNAILS_DIR}/"):
        return False
    return not (record.image and record.image.iiif_service)


def write_thumbnails(image: Image.Image, content_hash: str, data_dir: Path) -> str:
    """Write each width (once: an existing file has these pixels); return the smallest's path."""
    for width in THUMBNAIL_WIDTHS:
        target = data_dir / thumbnail_path(content_hash, width)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        small = image.convert("RGB")
        small.thumbnail((width, width), Image.Resampling.LANCZOS)
        # written beside the target, then renamed: readers never see half a file
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                small.save(out, format="WEBP", quality=WEBP_QUALITY, method=6)
            os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from a separate web server
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return thumbnail_path(content_hash, THUMBNAIL_WIDTHS[0])
