"""Index backends: ``embedded`` (SQLite + numpy, the default) and ``elasticsearch``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.backends.base import IndexLifecycle, SearchBackend
    from indexer.settings import Settings


def open_backend(settings: Settings) -> SearchBackend:
    """Build the backend the settings name; imports lazily so neither needs the other's deps."""
    if settings.backend == "embedded":
        from indexer.backends.embedded import EmbeddedBackend

        return EmbeddedBackend.open(settings)
    if settings.backend == "elasticsearch":
        from indexer.backends.elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend.open(settings)
    raise _unknown(settings)


def open_lifecycle(settings: Settings) -> IndexLifecycle:
    """The index lifecycle (create, status, reindex, cleanup, backup) of the configured backend."""
    if settings.backend == "embedded":
        from indexer.backends.embedded_lifecycle import EmbeddedLifecycle

        return EmbeddedLifecycle.open(settings)
    if settings.backend == "elasticsearch":
        from indexer.backends.elasticsearch_lifecycle import ElasticsearchLifecycle

        return ElasticsearchLifecycle.open(settings)
    raise _unknown(settings)


def _unknown(settings: Settings) -> ValueError:
    return ValueError(
        f"unknown backend {settings.backend!r} (MAPSEARCH_BACKEND: embedded or elasticsearch)"
    )
