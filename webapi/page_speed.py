"""What makes pages light on the wire: gzip/brotli for text responses (flask-compress), and
versioned static URLs (``?v=<content hash>``) that browsers may cache for good."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from flask_compress import Compress

# Static endpoints whose URLs carry a version: the UI's files and the API page's Swagger UI.
STATIC_BLUEPRINTS = ("ui", "api_docs")
IMMUTABLE_SECONDS = 365 * 24 * 3600
COMPRESSION = {
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/problem+json",
        "application/ld+json",
        "image/svg+xml",
    ],
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 5,  # brotli 5 is as fast as gzip 6 and smaller
    "COMPRESS_MIN_SIZE": 500,
    # exports stream thousands of rows: compressing would hold them all in memory first
    "COMPRESS_STREAMS": False,
}


@lru_cache(maxsize=256)
def _file_version(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def static_version(app: Flask, blueprint: str, filename: str) -> str | None:
    """The version (content hash) of a file of a blueprint's static folder, None when missing."""
    static_folder = app.blueprints[blueprint].static_folder
    if static_folder is None:
        return None
    path = Path(static_folder) / filename
    try:
        return _file_version(str(path), path.stat().st_mtime_ns)
    except OSError:
        return None


def register_page_speed(app: Flask) -> None:
    """Compress text responses and version the UI's static URLs on ``app``."""
    for key, value in COMPRESSION.items():
        app.config.setdefault(key, value)
    Compress(app)

    @app.url_defaults
    def version_static_urls(endpoint: str, values: dict[str, Any]) -> None:
        blueprint = endpoint.removesuffix(".static")
        if blueprint in STATIC_BLUEPRINTS and endpoint.endswith(".static") and "v" not in values:
            version = static_version(app, blueprint, values.get("filename", ""))
            if version:
                values["v"] = version

    # Registered after Compress, so it runs before it (Flask runs after_request handlers last
    # first): static files arrive as pass-through file streams, which flask-compress skips (it
    # leaves streams alone, for the exports); read into memory, they are small, they compress.
    @app.after_request
    def cache_versioned_static(response: Response) -> Response:
        endpoint = request.endpoint or ""
        blueprint = endpoint.removesuffix(".static")
        if blueprint not in STATIC_BLUEPRINTS or not endpoint.endswith(".static"):
            return response
        if response.status_code != 200:
            return response
        response.direct_passthrough = False
        response.get_data()  # buffered: no longer a stream
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") and request.args["v"] == static_version(app, blueprint, filename):
            response.cache_control.max_age = IMMUTABLE_SECONDS
            response.cache_control.public = True
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
        return response
