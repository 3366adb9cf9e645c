"""``/images/<path>``: images of local and demo records, served from ``data_dir/images``; paths
that leave that folder or pass through a symbolic link are 404 (``indexer.images.local``)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, send_file

from indexer.images.errors import UnsafeURL
from indexer.images.local import confined_file
from indexer.images.thumbnails import THUMBNAILS_DIR
from webapi.services import services_of

blueprint = Blueprint("images", __name__)

# Demo images never change under a name (a rebuild writes the same pixels), so browsers may cache.
CACHE_SECONDS = 3600
IMMUTABLE_SECONDS = 365 * 24 * 3600


@blueprint.get("/thumbnails/<path:filename>")
def thumbnail(filename: str) -> Response:
    """A thumbnail made at index time; its name is its pixels' hash, so it is cached for good."""
    path = _stored_file(THUMBNAILS_DIR, filename)
    response = send_file(path, mimetype="image/webp", max_age=IMMUTABLE_SECONDS)
    response.cache_control.immutable = True
    response.cache_control.public = True
    return response


@blueprint.get("/images/<path:filename>")
def local_image(filename: str) -> Response:
    """One stored image (404 when missing, outside the images folder, or a symbolic link)."""
    return send_file(_stored_file("images", filename), max_age=CACHE_SECONDS)


def _stored_file(folder: str, filename: str) -> Path:
    """The file under DATA_DIR/folder that a URL names; 404 when missing, outside it, or a link."""
    directory = services_of().settings.data_dir / folder
    try:
        path = confined_file(filename, [directory])
    except UnsafeURL:
        abort(404)
    if not path.is_file():
        abort(404)
    return path
