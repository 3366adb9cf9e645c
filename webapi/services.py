"""The one place that builds the read side's collaborators for an app: backend, embedder, upload
store and search service, each created on first use (a keyword search never loads the model)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from flask import Flask, current_app
from PIL import Image

from indexer.settings import Settings
from webapi.uploads import ExampleImageResolver, UploadStore

if TYPE_CHECKING:
    from indexer.backends.base import SearchBackend
    from indexer.embedder import Embedder
    from webapi.search.service import SearchService

EXTENSION_KEY = "mapsearch"


class LazyEmbedder:
    """An ``Embedder`` that loads the real model the first time a vector is needed."""

    def __init__(self, factory: Callable[[], Embedder]) -> None:
        self._factory = factory
        self._model: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """True once the model has been loaded."""
        return self._model is not None

    def _get(self) -> Embedder:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._factory()
        return self._model

    @property
    def model_id(self) -> str:  # type: ignore[override]
        """The model's id (loads it)."""
        return self._get().model_id

    @property
    def dims(self) -> int:  # type: ignore[override]
        """Vector size (loads the model)."""
        return self._get().dims

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Image vectors."""
        return self._get().embed_images(images)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Text vectors, texts as given."""
        return self._get().embed_texts(texts)

    def embed_query_text(self, text: str) -> np.ndarray:
        """A query text's vector after the prompt template."""
        return self._get().embed_query_text(text)

    def __getattr__(self, name: str) -> Any:
        # Anything else the real embedder offers (e.g. ``load``) is reached through the model.
        return getattr(self._get(), name)


def _load_embedder(settings: Settings) -> Embedder:
    from indexer.embedder import get_embedder

    embedder: Embedder = get_embedder(settings)
    return embedder


class Services:
    """Per-app collaborators, created lazily and thread-safely, closed with the app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._backend: SearchBackend | None = None
        self._search: SearchService | None = None
        self.lazy_embedder = LazyEmbedder(lambda: _load_embedder(settings))
        # Typed as the protocol: the lazy wrapper is read-only where the protocol says attribute.
        self.embedder: Embedder = cast("Embedder", self.lazy_embedder)
        self.uploads = UploadStore(settings)
        self.image_resolver = ExampleImageResolver(settings, self.uploads)

    def use_embedder(self, factory: Callable[[], Embedder]) -> None:
        """Replace the model (tests, or a caller that already holds one); the service is rebuilt."""
        with self._lock:
            self.lazy_embedder = LazyEmbedder(factory)
            self.embedder = cast("Embedder", self.lazy_embedder)
            self._search = None

    @property
    def backend(self) -> SearchBackend:
        """The index backend the settings name (opened on first use)."""
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    from indexer.backends import open_backend

                    self._backend = open_backend(self.settings)
        return self._backend

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
            if self._backend is not None:
                self._backend.close()
            self._backend = None
            self._search = None


def init_services(app: Flask, settings: Settings) -> Services:
    """Attach a fresh ``Services`` to the app."""
    services = Services(settings)
    app.extensions[EXTENSION_KEY] = services
    return services


def services_of(app: Flask | None = None) -> Services:
    """The ``Services`` of ``app`` (default: the current app)."""
    target = app if app is not None else current_app
    return target.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
