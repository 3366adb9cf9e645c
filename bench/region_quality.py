"""Region search quality on a large-format synthetic collection (docs/regions.md, issue 10),
through the real search path (the app's SearchService over the collection's index), each figure
beside the whole-map-only baseline (``regions=false`` on the same index):

- ornament text queries (5 ornaments × 3 phrasings), nDCG@10, semantic mode;
- localisation: share of relevant top-10 hits of those queries whose best region overlaps the
  ornament's ground-truth box (IoU ≥ 0.3) or holds its centre;
- no regression: the gold set's kind and colour text queries (nDCG@10) and image queries (P@10).

Usage: ``python bench/region_quality.py --data-dir DIR [--combine blend --weight 0.4]
[--json-out FILE]``; DIR holds a collection indexed with regions (``mapsearch demo --large``)."""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.evaluation.gold import GoldQuery  # noqa: E402
from indexer.evaluation.goldgen import image_queries, text_queries  # noqa: E402
from indexer.evaluation.metrics import mean_metrics  # noqa: E402
from indexer.evaluation.regions import (  # noqa: E402
    Localisation,
    ornament_queries,
    score_localisation,
)
from indexer.evaluation.runner import run_gold  # noqa: E402
from indexer.synthetic import read_ground_truth_boxes  # noqa: E402
from indexer.training.finetune import read_ground_truth  # noqa: E402
from webapi.app import create_app  # noqa: E402
from webapi.search.params import SearchParams  # noqa: E402
from webapi.services import services_of  # noqa: E402


def gold_for(truth: dict[str, Any]) -> list[GoldQuery]:
    """Ornament queries, plus goldgen's kind and colour text queries and image queries."""
    rng = random.Random(0)
    text = [
        q for q in text_queries(truth, rng, per_shape=5) if q.variant in ("kind", "colour_scheme")
    ]
    return [*ornament_queries(truth), *text, *image_queries(truth, rng, count=40)]


def run(service: Any, queries: list[GoldQuery], regions: bool) -> dict[str, dict[str, float]]:
    """Mean metrics per variant for one setting of ``regions``."""

    def search(fields: dict[str, Any]) -> list[str]:
        asked = {"min_similarity": -1.0, **fields, "regions": regions}
        return [hit.id for hit in service.search(SearchParams(**asked)).hits]

    result = run_gold(search, queries, mode="semantic")
    by_variant: dict[str, list[dict[str, float]]] = {}
    for row in result.results:
        if row.error:
            raise RuntimeError(f"{row.id}: {row.error}")
        by_variant.setdefault(f"{row.type}/{row.variant}", []).append(row.metrics)
    return {name: mean_metrics(rows) for name, rows in by_variant.items()}


def localise(
    service: Any, queries: list[GoldQuery], boxes: dict[str, Any]
) -> tuple[Localisation, dict[str, Localisation]]:
    """Localisation over every ornament query's top 10, overall and per ornament."""
    overall, per_kind = Localisation(), dict[str, Localisation]()
    for query in queries:
        if query.variant != "ornaments":
            continue
        ornament = (query.note or "").rsplit(" ", 1)[-1]
        response = service.search(
            SearchParams(q=query.q, mode="semantic", size=10, min_similarity=-1.0)
        )
        hits = [(hit.id, hit.regions[0].box if hit.regions else None) for hit in response.hits]
        kind = per_kind.setdefault(ornament, Localisation())
        for target in (overall, kind):
            score_localisation(target, ornament, hits, query.relevant, boxes)
    return overall, per_kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--model", default="demo")
    parser.add_argument("--combine", choices=("max", "blend"), default=None)
    parser.add_argument("--weight", type=float, default=None)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    truth = read_ground_truth(args.data_dir / "ground_truth.jsonl")
    boxes = {
        doc_id: found["ornament_boxes"]
        for doc_id, found in read_ground_truth_boxes(args.data_dir).items()
    }
    overrides: dict[str, Any] = {"data_dir": args.data_dir, "model": args.model}
    if args.combine:
        overrides["region_combine"] = args.combine
    if args.weight is not None:
        overrides["region_weight"] = args.weight
    service = services_of(create_app(overrides)).search
    queries = gold_for(truth)
    started = time.perf_counter()
    with_regions = run(service, queries, regions=True)
    whole_only = run(service, queries, regions=False)
    overall, per_kind = localise(service, queries, boxes)
    report = {
        "data_dir": str(args.data_dir),
        "maps": len(truth),
        "queries": {
            name: sum(1 for q in queries if f"{q.type}/{q.variant}" == name)
            for name in with_regions
        },
        "combine": service.settings.region_combine,
        "weight": service.settings.region_weight,
        "grid": service.settings.region_grid,
        "regions": with_regions,
        "whole_only": whole_only,
        "localisation": {
            "relevant_hits": overall.relevant_hits,
            "localised": overall.localised,
            "without_region": overall.without_region,
            "rate": round(overall.rate, 3),
            "per_ornament": {k: round(v.rate, 3) for k, v in sorted(per_kind.items())},
        },
        "seconds": round(time.perf_counter() - started, 1),
        "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
        "omp_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    print(f"{'variant':<22} {'metric':<8} {'regions':>8} {'whole':>8}")
    for name in with_regions:
        metric = "p@10" if name.startswith("image") else "ndcg@10"
        on, off = with_regions[name][metric], whole_only[name][metric]
        print(f"{name:<22} {metric:<8} {on:8.3f} {off:8.3f}")
    loc: dict[str, Any] = report["localisation"]  # type: ignore[assignment]
    found, hits = loc["localised"], loc["relevant_hits"]
    print(f"localisation {found}/{hits} = {loc['rate']:.3f} {loc['per_ornament']}")
    print(report["uptime"])
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
