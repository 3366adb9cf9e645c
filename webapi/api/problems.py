"""Every API error as an RFC 9457 ``application/problem+json`` body: one builder, one table from
exception types to status codes, and the handlers that make sure bad input never becomes a 500."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import BaseModel, Field, ValidationError
from werkzeug.exceptions import HTTPException

from indexer.backends.base import BackendError, ModelMismatchError
from webapi.api.error_map import status_for
from webapi.search.errors import SearchError

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 30


class FieldError(BaseModel):
    """One invalid field of a request."""

    loc: list[str | int] = Field(description="Where the bad value is, e.g. ['query', 'size'].")
    msg: str
    type: str


class Problem(BaseModel):
    """An error response (RFC 9457)."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(
        default=None, description="Validation errors, one per field."
    )


class ApiProblem(Exception):
    """Raised by views to answer with a problem (status, title, detail)."""

    def __init__(self, status: int, title: str, detail: str, *, slug: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Build the problem+json response."""
    body: dict[str, Any] = {
        "type": f"urn:mapsearch:problem:{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_MIMETYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def validation_errors(exc: ValidationError, location: str) -> list[dict[str, Any]]:
    """pydantic errors as JSON-safe field errors (inputs left out: they can be huge or hostile)."""
    errors = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc: list[str | int] = [location, *error.get("loc", ())]
        errors.append(
            {"loc": loc, "msg": str(error.get("msg", ""))[:300], "type": str(error.get("type", ""))}
        )
    return errors


def validation_problem(exc: ValidationError, location: str = "query") -> Response:
    """A 400 for parameters that failed validation."""
    errors = validation_errors(exc, location)
    first = errors[0] if errors else {"loc": [location], "msg": "invalid"}
    where = ".".join(str(part) for part in first["loc"][1:]) or location
    detail = f"{where}: {first['msg']}"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    return problem_response(
        400, "Invalid request parameters", detail, slug="invalid-parameters", errors=errors
    )


def request_location() -> str:
    """Where a request's parameters are: the query string, or the body of a POST."""
    return "body" if request.method in {"POST", "PUT", "PATCH"} else "query"


def openapi_validation_callback(exc: ValidationError) -> Response:
    """flask-openapi3 hook: parameters declared on a view failed validation."""
    return validation_problem(exc, request_location())


def register_problem_handlers(app: Flask) -> None:
    """Install handlers so that every error leaves the app as problem+json."""

    @app.errorhandler(ApiProblem)
    def _api_problem(exc: ApiProblem) -> Response:
        return problem_response(exc.status, exc.title, exc.detail, slug=exc.slug)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> Response:
        return validation_problem(exc, request_location())

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        if isinstance(exc.response, Response) and exc.response.mimetype == PROBLEM_MIMETYPE:
            return exc.response  # already a problem (flask-openapi3 aborts with one)
        status = exc.code or 500
        detail = exc.description or exc.name
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            detail = f"The request body is larger than the limit of {limit} bytes."
        headers = {}
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return problem_response(
            status, exc.name, detail, slug=exc.name.lower().replace(" ", "-"), headers=headers
        )

    @app.errorhandler(BackendError)
    def _backend_down(exc: BackendError) -> Response:
        log.warning("backend unavailable: %s", exc)
        return problem_response(
            503,
            "Search backend unavailable",
            str(exc) or "The index cannot be reached.",
            slug="backend-unavailable",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.errorhandler(ModelMismatchError)
    def _model_mismatch(exc: ModelMismatchError) -> Response:
        # the same answer as the search service's ModelMismatch: a configuration conflict, not an outage
        return problem_response(409, "Model mismatch", str(exc), slug="model-mismatch")

    @app.errorhandler(SearchError)
    def _search_error(exc: SearchError) -> Response:
        errors = None
        if exc.parameter:
            errors = [
                {
                    "loc": [request_location(), exc.parameter],
                    "msg": exc.detail[:300],
                    "type": type(exc).__name__,
                }
            ]
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if exc.status == 503 else None
        slug = exc.title.lower().replace(" ", "-")
        return problem_response(
            exc.status, exc.title, exc.detail, slug=slug, errors=errors, headers=headers
        )

    @app.errorhandler(Exception)
    def _anything_else(exc: Exception) -> Response:
        mapped = status_for(exc)
        if mapped is not None:
            status, title = mapped
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
            slug = title.lower().replace(" ", "-")
            return problem_response(status, title, str(exc) or title, slug=slug, headers=headers)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(
            500, "Internal Server Error", "An unexpected error occurred; it has been logged."
        )
