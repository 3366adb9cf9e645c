"""Fetching and decoding map images: SSRF-guarded HTTP with limits, bounded IIIF derivatives,
an on-disk cache, and typed errors the API maps to 400/413/415."""

from __future__ import annotations

from indexer.images.decode import to_rgb
from indexer.images.errors import FetchFailed, ImageError, ImageTooLarge, NotAnImage, UnsafeURL
from indexer.images.load import (
    decode_upload,
    fetch_image,
    fetch_json,
    load_image,
    resolve_manifest,
)

__all__ = [
    "FetchFailed",
    "ImageError",
    "ImageTooLarge",
    "NotAnImage",
    "UnsafeURL",
    "decode_upload",
    "fetch_image",
    "fetch_json",
    "load_image",
    "resolve_manifest",
    "to_rgb",
]
