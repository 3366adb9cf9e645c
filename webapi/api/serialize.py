"""JSON shapes shared by the API and ``mapsearch search --json``."""

from __future__ import annotations

from typing import Any

from indexer.records import MapRecord
from webapi.search.params import SearchResponse


def local_image_url(ref: str) -> str:
    """The app URL of an image stored under ``data_dir`` (``images/demo-00001.png``)."""
    return "/" + ref.lstrip("/")


def is_remote(url: str) -> bool:
    """True for absolute http(s) or protocol-relative URLs."""
    return url.startswith(("http://", "https://", "//"))


def thumbnail_url_for(record: MapRecord) -> str | None:
    """Where a browser loads the record's thumbnail:
    the service's choice, local paths made app URLs."""
    # the service module imports the model code (torch): only when a thumbnail is asked for
    from webapi.search.service import thumbnail_of

    url = thumbnail_of(record)
    if url and not is_remote(url) and not url.startswith("/"):
        return local_image_url(url)
    return url


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
