"""Typed search errors; the status and title each is answered with are in ``webapi.errors``."""

from __future__ import annotations


class SearchError(Exception):
    """A search that cannot be answered as asked (its status: ``webapi.errors.ERROR_TABLE``)."""

    def __init__(self, detail: str, *, parameter: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.parameter = parameter  # the offending request parameter, when one is to blame


class InvalidSearch(SearchError):
    """The parameters contradict each other or name something unusable (400)."""


class PageOutOfWindow(SearchError):
    """The page lies past the fused candidate window (400); narrow the query or use browse."""


class NotFound(SearchError):
    """No document with this id (404)."""


class EmbedderUnavailable(SearchError):
    """Semantic search was asked for but this server has no usable model (503)."""
