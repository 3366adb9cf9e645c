"""Exact cosine top-k over a float32 vector matrix, restricted by a boolean mask: the truth every
faster path (quantised scan, vector index) is measured against. No float64 casts, no copy of the
matrix; a gather of the allowed rows only when the filter leaves few of them."""

from __future__ import annotations

import numpy as np

# Below this fraction of rows passing the filters, scoring just those rows (a gather) beats one
# full matrix-vector product; above it, the full product plus a mask is cheaper.
GATHER_FRACTION = 0.1
# Rows gathered per block: bounds the temporary copy (16,384 × 512 float32 = 32 MiB).
GATHER_BLOCK = 16_384


def top_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, every score tying with the k-th included (so the
    caller can break ties by id); ``-inf`` scores (masked out) never count."""
    if k <= 0 or len(scores) == 0:
        return np.zeros(0, np.int64)
    if len(scores) > k:
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        if kth == -np.inf:
            return np.flatnonzero(scores > kth)
        return np.flatnonzero(scores >= kth)
    return np.flatnonzero(scores > -np.inf)


def gathered_scores(vectors: np.ndarray, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``vectors[rows] @ query`` in blocks: a large selection never copies all its rows at once."""
    scores = np.empty(len(rows), np.float32)
    for start in range(0, len(rows), GATHER_BLOCK):
        block = rows[start : start + GATHER_BLOCK]
        np.matmul(vectors[block], query, out=scores[start : start + len(block)])
    return scores


def exact_top(
    vectors: np.ndarray,
    allowed: np.ndarray,
    query: np.ndarray,
    k: int,
    min_similarity: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, float32 scores) of the ``k`` best allowed rows by dot product (cosine for unit
    vectors), ties at the cut included, unordered; rows scoring below ``min_similarity`` dropped.

    ``allowed`` is a bool mask over ``vectors``' first ``len(allowed)`` rows."""
    size = len(allowed)
    count = int(np.count_nonzero(allowed))
    if count == 0 or k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    if count < GATHER_FRACTION * size:
        rows = np.flatnonzero(allowed)
        scores = gathered_scores(vectors, rows, query)
        if min_similarity is not None:
            scores[scores < min_similarity] = -np.inf
        picked = top_positions(scores, k)
        return rows[picked], scores[picked]
    scores = vectors[:size] @ query  # one BLAS pass over a view: no copy of the matrix
    np.copyto(scores, np.float32(-np.inf), where=~allowed)
    if min_similarity is not None:
        scores[scores < min_similarity] = -np.inf
    picked = top_positions(scores, k)
    return picked, scores[picked]
