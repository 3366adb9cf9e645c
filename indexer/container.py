"""What a process builds once from its settings and shares between the web app, the CLI and the
pipeline workers: the index backend, the CLIP embedder, and whether they are warm yet."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from indexer.embedder import Embedder, process_embedder

if TYPE_CHECKING:
    from indexer.backends.base import SearchBackend
    from indexer.settings import Settings

log = logging.getLogger(__name__)

ReadyState = Literal["loading", "ready", "failed"]
#: Where an application object (a Flask app's ``extensions``) keeps its process container.
CONTAINER_KEY = "mapsearch_container"


@dataclass(frozen=True)
class Readiness:
    """Whether a serving process should get traffic yet, and why not."""

    state: ReadyState
    detail: str = ""
    seconds: float | None = None  # how long warming up took


class ProcessContainer:
    """Settings, backend and model for one process, each built once (the model loads under
    the embedder's own lock, on ``warm_up`` or on first use)."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._backend: SearchBackend | None = None
        self.embedder: Embedder = embedder if embedder is not None else process_embedder(settings)
        self._readiness = Readiness("loading", "opening the index and loading the model")
        self._warming: threading.Thread | None = None

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
    def readiness(self) -> Readiness:
        """``loading`` until ``warm_up`` finished, then
        ``ready`` (or ``failed`` with the reason)."""
        return self._readiness

    def warm_up_in_background(self) -> None:
        """Start ``warm_up`` on a thread unless it ran or is running (servers that do not warm
        their workers themselves get warm on the first readiness probe)."""
        with self._lock:
            if self._warming is not None:
                return
            self._warming = threading.Thread(target=self.warm_up, name="warm-up", daemon=True)
        self._warming.start()

    def use_embedder(self, embedder: Embedder) -> None:
        """Replace the model (tests, or a caller that already holds one)."""
        with self._lock:
            self.embedder = embedder

    def warm_up(self) -> Readiness:
        """Open the index and, when it holds vectors, load the model and embed one query, so the
        first search a user sends is as fast as the rest. Never raises: a failure is reported
        as ``failed`` readiness (searches then answer with the model's own clear error)."""
        with self._lock:
            if self._warming is None:
                self._warming = threading.current_thread()
        started = time.perf_counter()
        try:
            index_model = self.backend.model_id()
            if index_model is not None:
                self.embedder.embed_query_text("map")  # loads the model, then runs it once
            self._readiness = Readiness("ready", seconds=round(time.perf_counter() - started, 3))
        # reported, not raised: a process without its model still serves keyword search
        except Exception as error:
            log.warning("warm-up failed: %s", error)
            self._readiness = Readiness(
                "failed",
                f"{type(error).__name__}: {error}",
                round(time.perf_counter() - started, 3),
            )
        return self._readiness

    def close(self) -> None:
        """Release the backend's files and connections."""
        with self._lock:
            if self._backend is not None:
                self._backend.close()
            self._backend = None
