"""``POST /api/uploads``: store an example image for a while and answer a token usable as the
search's ``image_token`` (so a search by an uploaded map has a permalink)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_openapi3 import APIBlueprint, FileStorage, Tag
from pydantic import BaseModel, ConfigDict, Field

from webapi.api.problems import Problem
from webapi.services import services_of

api = APIBlueprint("uploads_api", __name__, url_prefix="/api", abp_tags=[Tag(name="search")])


class UploadForm(BaseModel):
    """A multipart form with one image file."""

    model_config = ConfigDict(extra="forbid")

    image: FileStorage = Field(
        description="PNG, JPEG, WebP, TIFF or GIF; at most MAPSEARCH_MAX_UPLOAD_BYTES."
    )


class Upload(BaseModel):
    """A stored upload."""

    token: str = Field(description="Pass as image_token to /api/search.")
    expires_at: str = Field(description="ISO 8601 UTC; the token is refused after it.")
    width: int
    height: int


@api.post(
    "/uploads",
    summary="Upload an example image",
    responses={201: Upload, 400: Problem, 413: Problem, 415: Problem},
)
def upload_image(form: UploadForm) -> tuple[dict[str, Any], int]:
    """Validate and store the image; answer its token."""
    stored = services_of().uploads.save(form.image.read())
    expires = datetime.fromtimestamp(stored.expires_at, UTC).isoformat(timespec="seconds")
    return Upload(
        token=stored.token, expires_at=expires, width=stored.width, height=stored.height
    ).model_dump(), 201
