"""Deriving a model's similarity bar from its own scores on a gold set: the cosine that best
separates judged-relevant (query, map) pairs from the rest (highest F1 over all pairs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from indexer.evaluation.gold import GoldQuery


@dataclass(frozen=True)
class ThresholdChoice:
    """The chosen bar and what it does on the pairs it was chosen from."""

    threshold: float
    precision: float
    recall: float
    f1: float
    relevant_pairs: int
    other_pairs: int


def best_threshold(relevant: np.ndarray, other: np.ndarray) -> ThresholdChoice:
    """The cosine bar (scores ``>=`` it count) that maximises F1 of relevant vs other pairs.

    Candidates are the observed relevant scores; ties in F1 go to the higher (stricter) bar.
    Raises ValueError without relevant pairs.
    """
    relevant = np.sort(np.asarray(relevant, np.float64))[::-1]
    other = np.sort(np.asarray(other, np.float64))
    if len(relevant) == 0:
        raise ValueError("no relevant pairs: the gold set judges nothing relevant")
    best: ThresholdChoice | None = None
    for index, cut in enumerate(relevant):
        true_positives = index + 1 + int(np.count_nonzero(relevant[index + 1 :] == cut))
        false_positives = len(other) - int(np.searchsorted(other, cut, side="left"))
        precision = true_positives / (true_positives + false_positives)
        recall = true_positives / len(relevant)
        f1 = 2 * precision * recall / (precision + recall)
        if best is None or f1 > best.f1:
            best = ThresholdChoice(float(cut), precision, recall, f1, len(relevant), len(other))
    assert best is not None
    return best


def split_scores(
    queries: Iterable[GoldQuery], scores: Mapping[str, Mapping[str, float]], min_grade: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(scores of judged pairs with grade >= ``min_grade``, scores of every other pair).

    ``scores`` maps a query id to every scored document's cosine; excluded ids are left out."""
    relevant: list[float] = []
    other: list[float] = []
    for query in queries:
        excluded = set(query.exclude)
        for doc_id, score in scores.get(query.id, {}).items():
            if doc_id in excluded:
                continue
            if query.relevant.get(doc_id, 0) >= min_grade:
                relevant.append(score)
            else:
                other.append(score)
    return np.array(relevant, np.float64), np.array(other, np.float64)
