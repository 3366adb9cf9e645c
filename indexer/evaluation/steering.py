"""Steering calibration: how "this map, but <word>" behaves as the modifier weight grows, measured
on a development collection whose ground truth is known, and the default weight chosen from it."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Search for "this map (id), steered by these modifier specs": the ranked ids, the map left out.
SteeredSearch = Callable[[str, list[str]], list[str]]

DEFAULT_WEIGHTS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
# The default is the smallest weight within this share of the best one's score: steering as
# gently as works, so the example map keeps as much say as it can.
NEAR_BEST = 0.95


@dataclass(frozen=True)
class SteeringPoint:
    """Top-k shares at one weight, averaged over the query maps."""

    weight: float
    attribute_share: float  # maps with the steered-to attribute (e.g. grayscale)
    same_kind_share: float  # ... that are also of the query map's kind (the gold set's grade 2)


def query_maps(
    truth: Mapping[str, Mapping[str, Any]], attribute: str, value: str, count: int, seed: int
) -> list[str]:
    """``count`` maps that lack ``attribute=value`` (the ones steering must change)."""
    candidates = sorted(doc for doc, facts in truth.items() if facts.get(attribute) != value)
    return random.Random(seed).sample(candidates, min(count, len(candidates)))


def steering_curve(
    search: SteeredSearch,
    truth: Mapping[str, Mapping[str, Any]],
    maps: Sequence[str],
    word: str,
    attribute: tuple[str, str],
    weights: Sequence[float] = DEFAULT_WEIGHTS,
    k: int = 10,
) -> list[SteeringPoint]:
    """Shares of the top ``k`` of ``map + weight·word`` for each weight."""
    name, value = attribute
    curve = []
    for weight in weights:
        wanted = same_kind = 0
        for doc in maps:
            top = search(doc, [f"{word}:{weight:g}"])[:k]
            hits = [truth.get(other, {}) for other in top]
            wanted += sum(1 for facts in hits if facts.get(name) == value)
            same_kind += sum(
                1
                for facts in hits
                if facts.get(name) == value and facts.get("kind") == truth[doc].get("kind")
            )
        denominator = max(1, k * len(maps))
        curve.append(SteeringPoint(weight, wanted / denominator, same_kind / denominator))
    return curve


def default_weight(curve: Sequence[SteeringPoint]) -> SteeringPoint:
    """The smallest weight whose same-kind share is within ``NEAR_BEST`` of the best."""
    if not curve:
        raise ValueError("no steering measurements")
    best = max(point.same_kind_share for point in curve)
    return min(
        (point for point in curve if point.same_kind_share >= NEAR_BEST * best),
        key=lambda point: point.weight,
    )
