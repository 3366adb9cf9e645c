"""The paper's query vector, as a pure function: ``v = norm((1−s)/2·i + (1+s)/2·t + Σ w_k·m_k)``.

Only text: ``v = t``; only image: ``v = i`` (modifiers still added). Inputs are embeddings; the
service does the embedding, so this is testable with hand-made vectors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def normalize(vector: np.ndarray) -> np.ndarray:
    """Unit-length float32 copy; raises ValueError for a zero (or non-finite) vector."""
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm < 1e-12:
        raise ValueError("the query vector is zero: the modifiers cancel the query out")
    return vector / norm


def compose_query_vector(
    text: np.ndarray | None,
    image: np.ndarray | None,
    mix: float = 0.0,
    modifiers: Sequence[tuple[np.ndarray, float]] = (),
) -> np.ndarray:
    """Combine text ``t``, image ``i`` and weighted modifiers ``m_k`` into one unit query vector.

    ``mix`` (s in [-1, 1]) only matters when both text and image are given: -1 = only the
    image, +1 = only the text. Each input is normalised first, as the formula requires.
    """
    if not -1.0 <= mix <= 1.0:
        raise ValueError("mix must be in [-1, 1]")
    if text is None and image is None:
        raise ValueError("a query vector needs a text or an image")
    if text is not None and image is not None:
        combined = (1 - mix) / 2 * normalize(image) + (1 + mix) / 2 * normalize(text)
    else:
        combined = normalize(text if text is not None else image)  # type: ignore[arg-type]
    for modifier, weight in modifiers:
        combined = combined + np.float32(weight) * normalize(modifier)
    return normalize(combined)
