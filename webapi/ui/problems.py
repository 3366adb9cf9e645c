"""Errors on HTML pages carry the same problem (status, title, detail) the JSON API would answer,
so a failed search shows the API's message instead of a blank page or a stack trace."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from webapi.api.problems import ApiProblem, validation_problem
from webapi.errors import error_detail, error_kind


@dataclass(frozen=True)
class PageProblem:
    """What the page shows in its error box."""

    status: int
    title: str
    detail: str


def problem_of(exc: Exception) -> PageProblem | None:
    """The API's problem for a typed error, or None for an unexpected one (a real 500)."""
    if isinstance(exc, ValidationError):
        body = validation_problem(exc, "query").get_json()
        return PageProblem(400, str(body["title"]), str(body["detail"]))
    if isinstance(exc, ApiProblem):
        return PageProblem(exc.status, exc.title, exc.detail)
    kind = error_kind(exc)
    if kind is None:
        return None
    return PageProblem(kind.status, kind.title, error_detail(exc, kind))
