"""A semantic hit's best regions, scored exactly from its stored regions: shared by the embedded
backend's lists and by the page of Elasticsearch hits, whose lists leave the boxes out."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from indexer.backends.base import BackendResult, ListHit, RegionMatch
from indexer.records import IndexDocument
from indexer.region_set import RegionSet

REGIONS_PER_HIT = 3  # best regions a semantic hit carries


def ranked_matches(
    boxes: np.ndarray, levels: np.ndarray, scores: np.ndarray, k: int
) -> list[RegionMatch]:
    """One map's best ``k`` regions, best first (ties: larger first, then stored order)."""
    order = np.lexsort((np.arange(len(scores)), levels, -scores))[:k]
    return [
        RegionMatch((x, y, w, h), level, score)
        for (x, y, w, h), level, score in zip(
            boxes[order].tolist(), levels[order].tolist(), scores[order].tolist(), strict=True
        )
    ]


def best_regions(
    regions: RegionSet | None, vector: np.ndarray, k: int = REGIONS_PER_HIT
) -> tuple[RegionMatch, ...]:
    """The best ``k`` of a map's regions for a unit query vector, by exact float32 cosine."""
    if regions is None or len(regions) == 0:
        return ()
    scores = regions.vectors @ np.asarray(vector, dtype=np.float32).reshape(-1)
    return tuple(ranked_matches(regions.boxes, regions.levels, scores, k))


def with_regions(
    result: BackendResult, hits: Sequence[ListHit], documents: Mapping[str, IndexDocument]
) -> list[ListHit]:
    """``hits`` (semantic hits of ``result``) each with its best regions: as the lists carry
    them, or, when the backend left them out, scored now from the maps' fetched documents."""
    query = result.region_query
    if query is None:
        return list(hits)
    shown = []
    for hit in hits:
        document = documents.get(hit.id)
        regions = best_regions(document.regions if document else None, query)
        shown.append(dataclasses.replace(hit, regions=regions))
    return shown
