"""Elasticsearch hits with regions: the whole-map and region kNN lists combined into one semantic
list the way the embedded backend scores maps (docs/regions.md), so both backends rank alike."""

from __future__ import annotations

import dataclasses
from typing import Any

from indexer.backends.base import BackendQuery, ListHit
from indexer.backends.es_documents import cosine_from_score, to_list_hit
from indexer.backends.es_fields import FieldMap


def parse_region_list(hits: list[dict[str, Any]], fields: FieldMap) -> list[ListHit]:
    """The region list: maps scored by their best region (boxes are not in it)."""
    parsed = [to_list_hit(hit, fields, cosine_from_score(float(hit["_score"]))) for hit in hits]
    return sorted(parsed, key=lambda h: (-h.score, h.id))


def combine_lists(
    whole: list[ListHit], region: list[ListHit], query: BackendQuery
) -> list[ListHit]:
    """One semantic list from the whole-map and region lists: each map scored by ``max`` of its
    whole-map and best-region cosines, or their ``blend``; barred by ``min_similarity``; the best
    ``num_candidates``, ties by id. A map in one list only counts that list's score (for a blend,
    its missing part is taken as the other list's lowest score, an upper bound)."""
    whole_of = {hit.id: hit for hit in whole}
    region_of = {hit.id: hit for hit in region}
    region_rank = {hit.id: rank for rank, hit in enumerate(region, start=1)}
    floor_whole = whole[-1].score if whole else None
    weight = query.region_weight
    combined = []
    for doc_id in {**whole_of, **region_of}:
        w_hit, r_hit = whole_of.get(doc_id), region_of.get(doc_id)
        base = w_hit or r_hit
        assert base is not None
        w = w_hit.score if w_hit is not None else None
        r = r_hit.score if r_hit is not None else None
        if query.region_combine == "blend":
            if r is None:
                score = w
            else:
                w_part = w if w is not None else floor_whole
                score = r if w_part is None else (1 - weight) * w_part + weight * r
        else:
            score = max(s for s in (w, r) if s is not None)
        assert score is not None
        if query.min_similarity is not None and score < query.min_similarity:
            continue
        combined.append(
            dataclasses.replace(
                base,
                score=score,
                whole_score=w,
                region_score=r,
                region_rank=region_rank.get(doc_id),
            )
        )
    combined.sort(key=lambda hit: (-hit.score, hit.id))
    return combined[: query.num_candidates]
