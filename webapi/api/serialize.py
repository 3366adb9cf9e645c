"""JSON shapes shared by the API and ``mapsearch search --json``, and where a record's thumbnail is
served from (the app for local images, a IIIF size request for IIIF images)."""

from __future__ import annotations

from typing import Any

from indexer.records import MapRecord
from webapi.search.params import SearchResponse

IIIF_THUMBNAIL_SIZE = "!400,400"


def local_image_url(ref: str) -> str:
    """The app URL of an image stored under ``data_dir`` (``images/demo-00001.png``)."""
    return "/" + ref.lstrip("/")


def is_remote(url: str) -> bool:
    """True for absolute http(s) or protocol-relative URLs."""
    return url.startswith(("http://", "https://", "//"))


def thumbnail_url_for(record: MapRecord) -> str | None:
    """Where a browser can load a small version of the record's image."""
    image = record.image
    if image is not None and image.iiif_service:
        return f"{image.iiif_service.rstrip('/')}/full/{IIIF_THUMBNAIL_SIZE}/0/default.jpg"
    if record.thumbnail_url:
        return record.thumbnail_url if is_remote(record.thumbnail_url) else local_image_url(record.thumbnail_url)
    if image is not None and image.url:
        return image.url if is_remote(image.url) else local_image_url(image.url)
    return None


def search_response_json(response: SearchResponse) -> dict[str, Any]:
    """The API's response body: hits without an ``explain`` leave the key out; local thumbnails
    point at the app."""
    body = response.model_dump(mode="json")
    for hit in body["hits"]:
        if hit.get("explain") is None:
            hit.pop("explain", None)
        thumbnail = hit.get("thumbnail_url")
        if thumbnail and not is_remote(thumbnail) and not thumbnail.startswith("/"):
            hit["thumbnail_url"] = local_image_url(thumbnail)
    return body
