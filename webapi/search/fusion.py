"""Fusion of the keyword and semantic lists into one ranking, as pure functions computed the same
way for every backend (DESIGN.md "Query semantics" 4). Ties break by id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from indexer.backends.base import ListHit


@dataclass(slots=True)
class FusedHit:
    """A hit of the fused list, with where it stood in each input list (ranks are 1-based)."""

    id: str
    score: float
    item_id: str
    year_start: int | None
    title: str
    keyword_rank: int | None = None
    keyword_score: float | None = None
    semantic_rank: int | None = None
    semantic_score: float | None = None
    semantic_hit: ListHit | None = None  # its semantic list entry (whole-map/region parts)


def _fuse(
    keyword: Sequence[ListHit], semantic: Sequence[ListHit], scores: dict[str, float]
) -> list[FusedHit]:
    fused: dict[str, FusedHit] = {}
    for rank, hit in enumerate(keyword, start=1):
        fused[hit.id] = FusedHit(
            hit.id, scores[hit.id], hit.item_id, hit.year_start, hit.title, rank, hit.score
        )
    for rank, hit in enumerate(semantic, start=1):
        found = fused.get(hit.id)
        if found is None:
            found = fused[hit.id] = FusedHit(
                hit.id, scores[hit.id], hit.item_id, hit.year_start, hit.title
            )
        found.semantic_rank, found.semantic_score = rank, hit.score
        found.semantic_hit = hit
    return sorted(fused.values(), key=lambda hit: (-hit.score, hit.id))


def fuse_rrf(
    keyword: Sequence[ListHit], semantic: Sequence[ListHit], k: int = 60
) -> list[FusedHit]:
    """Reciprocal rank fusion: score = Σ over lists of 1 / (k + rank)."""
    scores: dict[str, float] = {}
    for hits in (keyword, semantic):
        for rank, hit in enumerate(hits, start=1):
            scores[hit.id] = scores.get(hit.id, 0.0) + 1.0 / (k + rank)
    return _fuse(keyword, semantic, scores)


def _min_max(hits: Sequence[ListHit]) -> dict[str, float]:
    if not hits:
        return {}
    low, high = min(h.score for h in hits), max(h.score for h in hits)
    if high - low <= 0:
        return {h.id: 1.0 for h in hits}  # one distinct score: every hit is the list's best
    return {h.id: (h.score - low) / (high - low) for h in hits}


def fuse_linear(
    keyword: Sequence[ListHit], semantic: Sequence[ListHit], alpha: float = 0.5
) -> list[FusedHit]:
    """α·(min-max normalised similarity) + (1−α)·(min-max
    normalised BM25); absent from a list = 0."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError("alpha must be in [0, 1]")
    keyword_norm, semantic_norm = _min_max(keyword), _min_max(semantic)
    scores = {
        doc_id: alpha * semantic_norm.get(doc_id, 0.0) + (1 - alpha) * keyword_norm.get(doc_id, 0.0)
        for doc_id in {**keyword_norm, **semantic_norm}
    }
    return _fuse(keyword, semantic, scores)
