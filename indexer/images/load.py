"""Where an image comes from: an http(s) URL (cached on disk), an upload, a IIIF service at a
bounded size, a manifest's first canvas, or a file under the data directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image

from indexer.iiif.image_api import bounded_size_url, service_base, sized_url_from_info
from indexer.iiif.presentation import first_image_ref
from indexer.images.cache import ImageCache
from indexer.images.decode import decode_image
from indexer.images.errors import FetchFailed, ImageTooLarge, UnsafeURL
from indexer.images.fetch import fetch_bytes
from indexer.images.local import read_confined
from indexer.records import ImageRef
from indexer.settings import Settings

JSON_TYPES = ("application/json", "application/ld+json", "text/plain")


def _decode(data: bytes, settings: Settings, max_side: int | None = None) -> Image.Image:
    return decode_image(
        data,
        settings.max_image_pixels,
        max_side or settings.image_fetch_size,
        settings.max_whole_decode_pixels,
    )


def _cache(settings: Settings, kind: str = "images") -> ImageCache | None:
    if not settings.image_cache:
        return None
    return ImageCache(Path(settings.data_dir) / "cache" / kind, settings.image_cache_max_mb)


def fetch_image(
    url: str, settings: Settings, use_cache: bool = True, max_side: int | None = None
) -> Image.Image:
    """The image at an http(s) ``url`` as bounded RGB; UnsafeURL / FetchFailed / NotAnImage /
    ImageTooLarge on failure. Cached on disk by URL (only bytes that decoded). A IIIF
    ``info.json`` URL means its image at a bounded size. ``max_side``: decode to at most this
    longer side (default ``image_fetch_size``)."""
    if url.split("?", 1)[0].endswith("/info.json"):
        return _iiif_image(service_base(url), settings)
    cache = _cache(settings) if use_cache else None
    cached = cache.get(url) if cache is not None else None
    if cached is not None:
        return _decode(cached, settings, max_side)
    data, _content_type = fetch_bytes(url, settings)
    image = _decode(data, settings, max_side)
    if cache is not None:
        cache.put(url, data)
    return image


def decode_upload(data: bytes, settings: Settings) -> Image.Image:
    """Uploaded bytes as bounded RGB; ImageTooLarge over ``max_upload_bytes``, NotAnImage."""
    if len(data) > settings.max_upload_bytes:
        raise ImageTooLarge(
            f"the upload is {len(data):,} bytes; the limit is {settings.max_upload_bytes:,}"
        )
    return _decode(data, settings)


def fetch_json(url: str, settings: Settings) -> Any:
    """A JSON document (IIIF info.json or manifest) through the same guard and limits."""
    data, _content_type = fetch_bytes(url, settings, accept=JSON_TYPES)
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FetchFailed(f"{url}: not JSON") from exc


def _cached_json(url: str, settings: Settings) -> Any:
    """``fetch_json`` through an on-disk cache (info.json and manifests seldom change, and a
    re-embed would otherwise fetch every manifest again)."""
    cache = _cache(settings, "json")
    cached = cache.get(url) if cache is not None else None
    if cached is not None:
        try:
            return json.loads(cached)
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass  # a damaged entry: fetch again
    value = fetch_json(url, settings)
    if cache is not None:
        cache.put(url, json.dumps(value).encode("utf-8"))
    return value


def _iiif_image(service: str, settings: Settings) -> Image.Image:
    """A bounded derivative: the plain ``!n,n`` request first (one round trip, valid for level 1+);
    if the server refuses it (a level 0 server), what its info.json offers."""
    size = settings.image_fetch_size
    try:
        return fetch_image(bounded_size_url(service, size), settings)
    except FetchFailed as exc:
        if exc.http_status is None or not 400 <= exc.http_status < 500 or exc.http_status == 429:
            raise
    info = _cached_json(f"{service_base(service)}/info.json", settings)
    if not isinstance(info, dict):
        raise FetchFailed(f"{service}: info.json is not an object")
    try:
        url = sized_url_from_info(info, size, fallback_service=service_base(service))
    except ValueError as exc:
        raise FetchFailed(f"{service}: {exc}") from exc
    return fetch_image(url, settings)


def resolve_manifest(ref: ImageRef, settings: Settings) -> ImageRef:
    """A manifest-only reference completed with its first canvas image (IIIF service or URL; the
    manifest kept), so a stored record can show thumbnails and the zoomable viewer; any other
    reference unchanged. FetchFailed when the manifest has no image."""
    if ref.iiif_service or ref.url or not ref.manifest_url:
        return ref
    found = first_image_ref(_cached_json(ref.manifest_url, settings))
    if found is None or not (found.iiif_service or found.url):
        raise FetchFailed(f"{ref.manifest_url}: the manifest has no image")
    return ref.model_copy(
        update={
            "iiif_service": found.iiif_service,
            "url": found.url,
            "width": ref.width or found.width,
            "height": ref.height or found.height,
        }
    )


def local_image_roots(settings: Settings, data_dir: Path | None = None) -> list[Path]:
    """The folders local image files may be read from: the data directory, then the configured."""
    return [Path(data_dir or settings.data_dir), *settings.local_image_roots]


def load_image(
    ref: ImageRef, settings: Settings, data_dir: Path | None = None, max_side: int | None = None
) -> Image.Image:
    """The image a record points at, preferring its IIIF service (bounded size, never a TIFF
    master), then its URL or local file (relative paths under ``data_dir``; only inside the
    configured image folders, never through a symbolic link), then its manifest. ``max_side``
    bounds a URL's or file's decoded size (default ``image_fetch_size``)."""
    if ref.iiif_service:
        return _iiif_image(ref.iiif_service, settings)
    if ref.url:
        if ref.url.startswith(("http://", "https://", "//")):
            return fetch_image(
                "https:" + ref.url if ref.url.startswith("//") else ref.url,
                settings,
                max_side=max_side,
            )
        if "://" in ref.url:
            raise UnsafeURL(f"unsupported image URL scheme in {ref.url!r}")
        try:
            data = read_confined(ref.url, local_image_roots(settings, data_dir))
        except OSError as exc:
            raise FetchFailed(f"cannot read local image {ref.url}: {exc.strerror}") from exc
        return _decode(data, settings, max_side)
    if ref.manifest_url:
        return load_image(resolve_manifest(ref, settings), settings, data_dir, max_side)
    raise FetchFailed("the record has no image reference")
