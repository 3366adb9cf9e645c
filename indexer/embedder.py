"""The CLIP embedder: one model class, loaded once per process, that turns images and text into
unit-norm float32 vectors and records which model made them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image


@runtime_checkable
class Embedder(Protocol):
    """What the search service and the pipeline need from a model."""

    model_id: str
    dims: int

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(n, dims) unit-norm float32 image vectors; whole maps letterboxed, never cropped."""
        ...

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dims) unit-norm float32 text vectors, texts used as given."""
        ...

    def embed_query_text(self, text: str) -> np.ndarray:
        """(dims,) vector of ``text`` after the prompt template; LRU-cached."""
        ...
