"""Scoring region search on a large-format synthetic collection: ornament text queries (judged by
the ground truth's ornament lists) and localisation (does a relevant hit's best region sit on the
ornament asked for?), with the ground truth's ornament boxes in full-resolution pixels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from indexer.evaluation.gold import GoldQuery
from indexer.synthetic.vocabulary import ATTRIBUTE_WORDS

# Phrasings unlike the training captions, as in goldgen: {orn} is a vocabulary synonym.
ORNAMENT_TEMPLATES = ("a map with a {orn}", "{orn}", "maps showing a {orn}")
# A best region "finds" an ornament when it overlaps it this much, or holds its centre.
MIN_IOU = 0.3

Box = Sequence[int]


def ornament_queries(truth: Mapping[str, Mapping[str, Any]]) -> list[GoldQuery]:
    """One query per (ornament, phrasing), the ornament's first and second words alternating;
    grade 2 = the map shows that ornament."""
    queries = []
    for ornament, words in sorted(ATTRIBUTE_WORDS["ornaments"].items()):
        relevant = {
            doc_id: 2 for doc_id, attrs in truth.items() if ornament in attrs.get("ornaments", [])
        }
        if not relevant:
            continue
        for number, template in enumerate(ORNAMENT_TEMPLATES):
            word = words[number % len(words[:2])]
            queries.append(
                GoldQuery(
                    id=f"ornament-{ornament}-{number + 1}",
                    type="text",
                    variant="ornaments",
                    q=template.format(orn=word),
                    relevant=relevant,
                    note=f"ornaments contains {ornament}",
                )
            )
    return queries


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two x, y, w, h boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    wide = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    high = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = wide * high
    union = aw * ah + bw * bh - inter
    return inter / union if union else 0.0


def holds_centre(region: Box, target: Box) -> bool:
    """Whether ``region`` contains the centre of ``target``."""
    cx, cy = target[0] + target[2] / 2, target[1] + target[3] / 2
    return region[0] <= cx <= region[0] + region[2] and region[1] <= cy <= region[1] + region[3]


def finds(region: Box, targets: Sequence[Box]) -> bool:
    """Whether a best region localises any of ``targets`` (IoU ≥ MIN_IOU or holds its centre)."""
    return any(iou(region, box) >= MIN_IOU or holds_centre(region, box) for box in targets)


@dataclass
class Localisation:
    """Relevant top-10 hits of ornament queries, and how many had a best region on the ornament;
    ``without_region``: relevant hits that carried no region at all (counted as misses)."""

    relevant_hits: int = 0
    localised: int = 0
    without_region: int = 0

    @property
    def rate(self) -> float:
        """Share of relevant hits whose best region finds the ornament."""
        return self.localised / self.relevant_hits if self.relevant_hits else 0.0


def score_localisation(
    result: Localisation,
    ornament: str,
    hits: Sequence[tuple[str, Box | None]],
    relevant: Mapping[str, int],
    boxes: Mapping[str, Sequence[Mapping[str, Any]]],
) -> None:
    """Add one query's top hits ((id, best region box or None), best first) to ``result``."""
    for doc_id, region in hits:
        if doc_id not in relevant:
            continue
        result.relevant_hits += 1
        targets = [entry["box"] for entry in boxes.get(doc_id, []) if entry["kind"] == ornament]
        if region is None:
            result.without_region += 1
        elif finds(region, targets):
            result.localised += 1
