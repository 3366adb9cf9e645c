"""Typed search errors; each carries the HTTP status and problem title the API answers with."""

from __future__ import annotations


class SearchError(Exception):
    """A search that cannot be answered as asked; ``status`` is the HTTP status to answer with."""

    status = 400
    title = "Bad search request"

    def __init__(self, detail: str, *, parameter: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.parameter = parameter  # the offending request parameter, when one is to blame


class InvalidSearch(SearchError):
    """The parameters contradict each other or name something unusable (400)."""


class PageOutOfWindow(SearchError):
    """The page lies past the fused candidate window (400); narrow the query or use browse."""

    title = "Page out of the result window"


class NotFound(SearchError):
    """No document with this id (404)."""

    status = 404
    title = "Not found"


class ModelMismatch(SearchError):
    """The query model differs from the model that built the index (409)."""

    status = 409
    title = "Model mismatch"


class EmbedderUnavailable(SearchError):
    """Semantic search was asked for but this server has no usable model (503)."""

    status = 503
    title = "Model unavailable"
