"""JSON shapes shared by the API and ``mapsearch search --json``."""

from __future__ import annotations

from typing import Any

from webapi.search.params import SearchResponse


def local_image_url(ref: str) -> str:
    """The app URL of an image stored under ``data_dir`` (``images/demo-00001.png``)."""
    return "/" + ref.lstrip("/")


def is_remote(url: str) -> bool:
    """True for absolute http(s) or protocol-relative URLs."""
    return url.startswith(("http://", "https://", "//"))


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
