"""Index backends: ``embedded`` (SQLite + numpy, the default) and ``elasticsearch``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.backends.base import SearchBackend
    from indexer.settings import Settings


def open_backend(settings: Settings) -> SearchBackend:
    """Build the backend the settings name; imports lazily so neither needs the other's deps."""
    if settings.backend == "embedded":
        from indexer.backends.embedded import EmbeddedBackend

        return EmbeddedBackend.open(settings)
    if settings.backend == "elasticsearch":
        from indexer.backends.elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend.open(settings)
    raise ValueError(
        f"unknown backend {settings.backend!r} (MAPSEARCH_BACKEND: embedded or elasticsearch)"
    )
