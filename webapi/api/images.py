"""``/images/<path>``: images of local and demo records, served from ``data_dir/images`` (paths
that would leave that folder are refused by ``send_from_directory``'s safe join)."""

from __future__ import annotations

from flask import Blueprint, Response, send_from_directory

from webapi.services import services_of

blueprint = Blueprint("images", __name__)

# Demo images never change under a name (a rebuild writes the same pixels), so browsers may cache.
CACHE_SECONDS = 3600


@blueprint.get("/images/<path:filename>")
def local_image(filename: str) -> Response:
    """One stored image (404 when missing or outside the images folder)."""
    directory = (services_of().settings.data_dir / "images").resolve()
    return send_from_directory(directory, filename, max_age=CACHE_SECONDS)
