"""The read side's collaborators for an app: the process container (backend and model, shared
with the pipeline), the upload store and the search service, each created on first use."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from flask import Flask, current_app

from indexer.container import CONTAINER_KEY, ProcessContainer
from indexer.settings import Settings
from webapi.uploads import ExampleImageResolver, UploadStore

if TYPE_CHECKING:
    from indexer.backends.base import SearchBackend
    from indexer.embedder import Embedder
    from webapi.search.service import SearchService

EXTENSION_KEY = "mapsearch"


class Services:
    """Per-app collaborators: the process container (backend, model) plus the read side's own
    upload store and search service, created lazily and thread-safely, closed with the app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.container = ProcessContainer(settings)
        self._lock = threading.RLock()
        self._search: SearchService | None = None
        self.uploads = UploadStore(settings)
        self.image_resolver = ExampleImageResolver(settings, self.uploads)

    @property
    def embedder(self) -> Embedder:
        """The model (not loaded until a query needs a vector, or ``warm_up``)."""
        return self.container.embedder

    def use_embedder(self, embedder: Embedder) -> None:
        """Replace the model (tests, or a caller that already holds one); the service is rebuilt."""
        with self._lock:
            self.container.use_embedder(embedder)
            self._search = None

    @property
    def backend(self) -> SearchBackend:
        """The index backend the settings name (opened on first use)."""
        return self.container.backend

    @property
    def search(self) -> SearchService:
        """The search service over backend + embedder."""
        if self._search is None:
            with self._lock:
                if self._search is None:
                    from webapi.search.service import SearchService

                    self._search = SearchService(
                        self.settings, self.backend, self.embedder, self.image_resolver
                    )
        return self._search

    def close(self) -> None:
        """Release the backend's files and connections."""
        with self._lock:
            self.container.close()
            self._search = None


def init_services(app: Flask, settings: Settings) -> Services:
    """Attach a fresh ``Services`` to the app; its container is the one the pipeline uses too."""
    services = Services(settings)
    app.extensions[EXTENSION_KEY] = services
    app.extensions[CONTAINER_KEY] = services.container
    return services


def services_of(app: Flask | None = None) -> Services:
    """The ``Services`` of ``app`` (default: the current app)."""
    target = app if app is not None else current_app
    return target.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
