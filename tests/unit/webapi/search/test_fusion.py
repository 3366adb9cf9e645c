"""RRF and linear fusion on hand-made lists."""

from __future__ import annotations

import pytest

from indexer.backends.base import ListHit
from webapi.search.fusion import fuse_linear, fuse_rrf


def hits(*pairs: tuple[str, float]) -> list[ListHit]:
    return [ListHit(id=i, score=s, item_id=i, year_start=None, title=i) for i, s in pairs]


KEYWORD = hits(("a", 9.0), ("b", 5.0), ("c", 1.0))
SEMANTIC = hits(("c", 0.75), ("d", 0.5), ("a", 0.25))


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = fuse_rrf(KEYWORD, SEMANTIC, k=60)
    scores = {h.id: h.score for h in fused}
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 63)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert scores["b"] == pytest.approx(1 / 62) and scores["d"] == pytest.approx(1 / 62)
    assert [h.id for h in fused] == ["a", "c", "b", "d"]  # equal scores: by id
    a = fused[0]
    assert (a.keyword_rank, a.keyword_score, a.semantic_rank, a.semantic_score) == (1, 9.0, 3, 0.25)
    d = fused[-1]
    assert d.keyword_rank is None and d.semantic_rank == 2


def test_rrf_k_changes_scores_not_single_list_order() -> None:
    fused = fuse_rrf(KEYWORD, [], k=1)
    assert [h.id for h in fused] == ["a", "b", "c"] and fused[0].score == pytest.approx(1 / 2)


def test_linear_min_max_normalises_each_list() -> None:
    fused = fuse_linear(KEYWORD, SEMANTIC, alpha=0.5)
    scores = {h.id: h.score for h in fused}
    # keyword: a 1, b .5, c 0; semantic: c 1, d .5, a 0
    assert scores == pytest.approx({"a": 0.5, "b": 0.25, "c": 0.5, "d": 0.25})
    assert [h.id for h in fused] == ["a", "c", "b", "d"]


def test_linear_alpha_extremes() -> None:
    assert [h.id for h in fuse_linear(KEYWORD, SEMANTIC, alpha=1.0)][:2] == ["c", "d"]
    assert [h.id for h in fuse_linear(KEYWORD, SEMANTIC, alpha=0.0)][:2] == ["a", "b"]
    with pytest.raises(ValueError):
        fuse_linear(KEYWORD, SEMANTIC, alpha=2)


def test_linear_single_distinct_score_counts_as_best() -> None:
    fused = fuse_linear(hits(("x", 3.0), ("y", 3.0)), [], alpha=0.5)
    assert [(h.id, h.score) for h in fused] == [("x", 0.5), ("y", 0.5)]


def test_empty_lists() -> None:
    assert fuse_rrf([], []) == [] and fuse_linear([], []) == []
