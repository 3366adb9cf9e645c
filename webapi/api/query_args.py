"""Strict query strings for every API route: a parameter the route does not declare, or a
single-valued parameter given twice (``size=1&size=100``), is a 400 problem instead of being
ignored or silently resolved to one of the values."""

from __future__ import annotations

import typing
from typing import Any

from flask import Flask, Response, current_app, request
from pydantic import BaseModel

from webapi.api.problems import problem_response


def _query_model(view: Any) -> type[BaseModel] | None:
    """The pydantic model a flask-openapi3 view declares as ``query``, if any."""
    try:
        hints = typing.get_type_hints(view)
    except (NameError, TypeError):
        return None
    model = hints.get("query")
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def query_problem(args: Any, model: type[BaseModel] | None) -> list[dict[str, Any]]:
    """One error per unknown or wrongly repeated parameter of ``args`` (a MultiDict)."""
    fields = model.model_fields if model is not None else {}
    errors = []
    for name in args:
        field = fields.get(name)
        if field is None:
            errors.append(
                {"loc": ["query", name], "msg": "unknown parameter", "type": "extra_forbidden"}
            )
        elif len(args.getlist(name)) > 1 and typing.get_origin(field.annotation) is not list:
            errors.append(
                {
                    "loc": ["query", name],
                    "msg": "given more than once; this parameter takes one value",
                    "type": "repeated_parameter",
                }
            )
    return errors


def _check_query_string() -> Response | None:
    if not request.path.startswith("/api/") or request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    if view is None or not request.args:
        return None
    errors = query_problem(request.args, _query_model(view))
    if not errors:
        return None
    names = ", ".join(sorted({str(error["loc"][1]) for error in errors}))
    return problem_response(
        400,
        "Invalid request parameters",
        f"Unknown or repeated query parameter(s): {names}.",
        slug="invalid-parameters",
        errors=errors,
    )


def register_strict_query_strings(app: Flask) -> None:
    """Check the query string of every ``/api/`` request before its view runs."""
    app.before_request(_check_query_string)
