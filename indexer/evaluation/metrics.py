"""Ranking metrics over one ranked id list and graded judgements.

Binary metrics (precision, recall, MRR) count ids with grade >= ``min_grade`` (default 2,
"fully relevant"); nDCG uses every grade with gain 2^grade − 1 and the ideal ordering of all
judged ids."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def _relevant(judgements: Mapping[str, int], min_grade: int) -> set[str]:
    return {doc for doc, grade in judgements.items() if grade >= min_grade}


def precision_at_k(
    ranking: Sequence[str], judgements: Mapping[str, int], k: int = 10, min_grade: int = 2
) -> float:
    """Relevant among the first k, divided by k (a short ranking is not rewarded)."""
    relevant = _relevant(judgements, min_grade)
    return sum(1 for doc in ranking[:k] if doc in relevant) / k


def recall_at_k(
    ranking: Sequence[str], judgements: Mapping[str, int], k: int = 10, min_grade: int = 2
) -> float:
    """Share of all relevant ids found in the first k (0 when nothing is relevant)."""
    relevant = _relevant(judgements, min_grade)
    if not relevant:
        return 0.0
    return sum(1 for doc in ranking[:k] if doc in relevant) / len(relevant)


def reciprocal_rank(
    ranking: Sequence[str], judgements: Mapping[str, int], min_grade: int = 2
) -> float:
    """1 / rank of the first relevant id (0 when none is ranked)."""
    relevant = _relevant(judgements, min_grade)
    for rank, doc in enumerate(ranking, 1):
        if doc in relevant:
            return 1.0 / rank
    return 0.0


def dcg_at_k(gains: Sequence[float], k: int) -> float:
    """Σ gain_i / log2(i + 1) over the first k positions (i from 1)."""
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k]))


def ndcg_at_k(ranking: Sequence[str], judgements: Mapping[str, int], k: int = 10) -> float:
    """DCG of the ranking / DCG of the ideal ranking, gains
    2^grade − 1 (0 when nothing is judged relevant)."""
    gains = [2 ** judgements.get(doc, 0) - 1 for doc in ranking]
    ideal = sorted((2**g - 1 for g in judgements.values() if g > 0), reverse=True)
    best = dcg_at_k(ideal, k)
    return dcg_at_k(gains, k) / best if best > 0 else 0.0


def query_metrics(
    ranking: Sequence[str], judgements: Mapping[str, int], ks: Sequence[int] = (10, 100)
) -> dict[str, float]:
    """Every metric the reports show, for one query."""
    out = {
        "p@10": precision_at_k(ranking, judgements, 10),
        "ndcg@10": ndcg_at_k(ranking, judgements, 10),
        "mrr": reciprocal_rank(ranking, judgements),
    }
    for k in ks:
        out[f"recall@{k}"] = recall_at_k(ranking, judgements, k)
    return out


def mean_metrics(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Per-metric mean over queries (empty → {})."""
    if not rows:
        return {}
    return {name: sum(r[name] for r in rows) / len(rows) for name in rows[0]}
