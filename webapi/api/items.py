"""``/api/items/<id>`` (one indexed map) and
``/api/items/<id>/similar`` (maps that look like it)."""

from __future__ import annotations

from typing import Any

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field

from indexer.search_surface import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from webapi.api.problems import Problem
from webapi.api.serialize import search_response_json, thumbnail_url_for
from webapi.search.params import SearchParams, SearchResponse
from webapi.services import services_of

api = APIBlueprint("items_api", __name__, url_prefix="/api", abp_tags=[Tag(name="items")])


class ItemPath(BaseModel):
    """An indexed document id (may contain ':' and '/', e.g. ``loc:94686002/1``)."""

    item_id: str = Field(min_length=1, max_length=300)


class SimilarQuery(BaseModel):
    """Paging and filters for "more like this"."""

    model_config = ConfigDict(extra="forbid")

    size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    page: int = Field(default=1, ge=1)
    collapse: bool = False
    year_from: int | None = Field(default=None, ge=-3000, le=3000)
    year_to: int | None = Field(default=None, ge=-3000, le=3000)
    min_similarity: float | None = Field(default=None, ge=-1, le=1)


@api.get(
    "/items/<path:item_id>/similar",
    summary="Maps that look like this one",
    responses={200: SearchResponse, 400: Problem, 404: Problem, 503: Problem},
)
def item_similar(path: ItemPath, query: SimilarQuery) -> dict[str, Any]:
    """Image-only search by the item's stored vector, the item itself left out."""
    filters = SearchParams.model_validate(
        query.model_dump(exclude={"size", "page"}, exclude_none=True)
    )
    response = services_of().search.similar(
        path.item_id, size=query.size, page=query.page, params=filters
    )
    return search_response_json(response)


@api.get(
    "/items/<path:item_id>",
    summary="One indexed map",
    responses={200: None, 404: Problem, 503: Problem},
)
def item_detail(path: ItemPath) -> dict[str, Any]:
    """The record as indexed (source record left out), with thumbnail and vector provenance."""
    doc = services_of().search.get_item(path.item_id)
    body = doc.record.model_dump(mode="json", exclude={"raw"})
    body["thumbnail_url"] = thumbnail_url_for(doc.record)
    body["has_vector"] = doc.vector is not None
    body["model_id"] = doc.model_id
    body["image_hash"] = doc.image_hash
    body["indexed_at"] = doc.indexed_at.isoformat()
    return body
