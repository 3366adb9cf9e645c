"""Every API error as an RFC 9457 ``application/problem+json`` body: one builder, and the handlers
that answer typed errors by the one error table (``webapi.errors``) so bad input never becomes a
500."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import BaseModel, Field, ValidationError
from werkzeug.exceptions import HTTPException

from webapi.errors import error_detail, error_kind
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


def typed_problem(exc: Exception) -> Response:
    """The problem for an error of the error table (``webapi.errors``); a search error that
    names its parameter gets it as a field error."""
    kind = error_kind(exc)
    assert kind is not None, exc
    errors = None
    parameter = getattr(exc, "parameter", None) if isinstance(exc, SearchError) else None
    detail = error_detail(exc, kind)
    if parameter:
        errors = [
            {
                "loc": [request_location(), parameter],
                "msg": detail[:300],
                "type": type(exc).__name__,
            }
        ]
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if kind.retry_after else None
    return problem_response(
        kind.status, kind.title, detail, slug=kind.slug, errors=errors, headers=headers
    )


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

    @app.errorhandler(Exception)
    def _typed_or_unexpected(exc: Exception) -> Response:
        kind = error_kind(exc)
        if kind is not None:
            if kind.status >= 500:
                log.warning("%s: %s", kind.title, exc)
            return typed_problem(exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(
            500, "Internal Server Error", "An unexpected error occurred; it has been logged."
        )
