"""``/api/search``: parse and validate (GET query string, POST JSON, POST multipart with an image),
hand ``SearchParams`` to the search service, serialise its ``SearchResponse``."""

from __future__ import annotations

import typing
from typing import Any

from flask import Request, request
from flask_openapi3 import APIBlueprint, OpenAPI, Tag
from PIL import Image
from pydantic import ValidationError

from webapi.api.problems import ApiProblem, Problem, validation_problem
from webapi.api.serialize import search_response_json
from webapi.search.params import SearchParams, SearchResponse
from webapi.services import services_of

api = APIBlueprint("search_api", __name__, url_prefix="/api", abp_tags=[Tag(name="search")])

ERROR_RESPONSES: dict[Any, Any] = {400: Problem, 413: Problem, 415: Problem, 503: Problem}

# Fields that repeat in a query string or form (``place=a&place=b``), derived from the model.
LIST_FIELDS = frozenset(
    name
    for name, field in SearchParams.model_fields.items()
    if typing.get_origin(field.annotation) is list
)


@api.get("/search", summary="Search maps", responses={200: SearchResponse, **ERROR_RESPONSES})
def search_get(query: SearchParams) -> dict[str, Any]:
    """Search by words, an indexed item's image (``image_id``), an image URL or an upload token."""
    return run_search(query, image=None)


@api.post(
    "/search",
    summary="Search maps (JSON body, or multipart with an image file)",
    responses={200: SearchResponse, **ERROR_RESPONSES},
)
def search_post() -> Any:
    """The same fields as GET: a JSON object, or multipart form fields plus an ``image`` file."""
    try:
        params, image = parse_post(request)
    except ValidationError as exc:
        return validation_problem(exc, "body")
    return run_search(params, image=image)


def run_search(params: SearchParams, image: Image.Image | None) -> dict[str, Any]:
    """Run one search through the app's search service."""
    response = services_of().search.search(params, image=image)
    return search_response_json(response)


def parse_post(req: Request) -> tuple[SearchParams, Image.Image | None]:
    """SearchParams (and the uploaded image, if any) from a JSON or multipart request."""
    mimetype = req.mimetype
    if mimetype == "application/json" or mimetype.endswith("+json"):
        body = req.get_json(silent=True)
        if not isinstance(body, dict):
            raise ApiProblem(
                400,
                "Malformed JSON",
                "The request body must be a JSON object of search fields.",
                slug="malformed-json",
            )
        # strict: JSON has real booleans and numbers, so 0.0 is not `false` and "5" not 5
        # (forms and query strings are all text and keep the lax reading below)
        return SearchParams.model_validate(body, strict=True), None
    if mimetype in (
        "multipart/form-data",
        "application/x-www-form-urlencoded",
    ):  # the latter: a plain HTML form
        return SearchParams.model_validate(form_fields(req)), uploaded_image(req)
    raise ApiProblem(
        415,
        "Unsupported Media Type",
        "Send application/json, multipart/form-data or a URL-encoded form, not "
        f"{mimetype or 'an untyped body'}.",
        slug="unsupported-media-type",
    )


def form_fields(req: Request) -> dict[str, Any]:
    """Form fields as SearchParams input; repeatable fields as lists, unknown ones kept (→ 400),
    a single-valued field given twice kept as a list (→ 400, never silently one of them)."""
    fields: dict[str, Any] = {}
    for name in req.form:
        values = [value for value in req.form.getlist(name) if value != ""]
        if not values:
            continue
        fields[name] = values if (name in LIST_FIELDS or len(values) > 1) else values[0]
    for name in req.files:
        if name != "image":
            fields[name] = "(file)"  # an unexpected file part is an unknown field
    return fields


def uploaded_image(req: Request) -> Image.Image | None:
    """The decoded ``image`` file part (typed errors: too large → 413, not an image → 415)."""
    upload = req.files.get("image")
    if upload is None:
        return None
    data = upload.read()
    if not data:
        return None  # an empty file input submitted by a browser form
    return services_of().image_resolver.from_bytes(data)


def _empty_allowed(field: dict[str, Any]) -> dict[str, Any]:
    """A form field's schema that also admits "" (an empty input a browser submits, which
    ``form_fields`` reads as "not given"), for the field or each item of a repeatable one."""
    empty = {"type": "string", "maxLength": 0}
    if field.get("type") == "array" and isinstance(field.get("items"), dict):
        return {**field, "items": {"anyOf": [field["items"], empty]}}
    return {"anyOf": [field, empty]}


def document_post_search(app: OpenAPI) -> None:
    """Declare POST /api/search's request bodies from
    ``SearchParams`` (one declaration for both)."""
    from flask_openapi3.models import Schema

    schema = SearchParams.model_json_schema(ref_template="#/components/schemas/{model}")
    app.components_schemas["SearchParams"] = Schema.model_validate(schema)
    form_properties = {name: _empty_allowed(value) for name, value in schema["properties"].items()}
    urlencoded = {**schema, "title": "SearchFields", "properties": form_properties}
    urlencoded.pop("$defs", None)
    app.components_schemas["SearchFields"] = Schema.model_validate(urlencoded)
    multipart = {
        "title": "SearchForm",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            **form_properties,
            "image": {"type": "string", "format": "binary", "description": "An example map image."},
        },
    }
    app.components_schemas["SearchForm"] = Schema.model_validate(multipart)
    operation = app.paths["/api/search"].post
    operation.requestBody = {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/SearchParams"}},
            "multipart/form-data": {"schema": {"$ref": "#/components/schemas/SearchForm"}},
            "application/x-www-form-urlencoded": {
                "schema": {"$ref": "#/components/schemas/SearchFields"}
            },
        },
    }
