"""Search quality with map text on a held-out large-format synthetic collection whose index was
built and read by the product path (``mapsearch demo --large`` then ``mapsearch jobs reindex
--map-text``): for place names drawn on the maps but absent from every catalogue record,
"maps showing <name>" recall@10 and nDCG@10 (relevant = the maps whose true labels name it), and
the share of returned matched words whose box overlaps a true label of that word (IoU >= 0.5).
Runs on the embedded index in --data-dir, and (--es-url) on a copy of it in Elasticsearch.
``--weight`` overrides the map-text field weight for this run (the weight sweep)."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.analysis import analyze, fold  # noqa: E402
from indexer.backends.base import SearchBackend  # noqa: E402
from indexer.evaluation.map_text import ReadingScore, iou, overlapped, score_map  # noqa: E402
from indexer.evaluation.metrics import ndcg_at_k, recall_at_k  # noqa: E402
from indexer.fuzzy import fuzzy_match  # noqa: E402
from indexer.search_surface import keyword_fields  # noqa: E402
from indexer.settings import load_settings  # noqa: E402
from indexer.synthetic import read_ground_truth_boxes  # noqa: E402
from webapi.search.params import SearchParams  # noqa: E402
from webapi.search.service import SearchService  # noqa: E402


def set_map_text_weight(weight: float) -> None:
    """Use ``weight`` for the map-text field in both backends' queries (this process only)."""
    from indexer.backends import embedded, embedded_schema, es_queries

    embedded_schema.FTS_WEIGHTS["map_text"] = weight
    embedded._BM25_WEIGHTS = ", ".join(
        str(embedded_schema.FTS_WEIGHTS[c]) for c in embedded_schema.FTS_COLUMNS
    )
    es_queries.MAP_TEXT_WEIGHT = weight


def name_queries(
    backend: SearchBackend,
    truth: dict[str, dict[str, Any]],
    count: int,
    seed: int,
    clear_only: bool = False,
) -> list[tuple[str, dict[str, int]]]:
    """(name, {map id: 2}) for place names on the maps (single-word labels of letters) that no
    catalogue record contains; ``clear_only``: only labels no other label or ornament covers."""
    docs = backend.fetch(sorted(truth))
    catalogue = {
        term
        for doc in docs.values()
        for text in keyword_fields(doc.record).values()
        for term in analyze(text)
    }
    maps_of: dict[str, set[str]] = defaultdict(set)
    for doc_id, boxes in truth.items():
        others = [*boxes["label_boxes"], *boxes["ornament_boxes"]]
        for label in boxes["label_boxes"]:
            text = str(label["text"])
            if clear_only and overlapped(label, others):
                continue
            if text.isalpha() and len(text) >= 4 and " " not in text:
                maps_of[text].add(doc_id)
    names = sorted(n for n in maps_of if not set(analyze(n)) & catalogue)
    chosen = random.Random(seed).sample(names, min(count, len(names)))
    return [(name, {doc_id: 2 for doc_id in maps_of[name]}) for name in chosen]


def evaluate(
    service: SearchService,
    backend: SearchBackend,
    queries: list[tuple[str, dict[str, int]]],
    truth: dict[str, dict[str, Any]],
    mode: Literal["keyword", "hybrid"],
) -> dict[str, Any]:
    """Mean recall@10 / nDCG@10, box overlap of returned matches, and latency, for one mode."""
    recalls, ndcgs, latencies = [], [], []
    boxes_ok = boxes_checked = 0
    for name, relevant in queries:
        started = time.perf_counter()
        response = service.search(SearchParams(q=f"maps showing {name}", mode=mode, size=10))
        latencies.append(time.perf_counter() - started)
        ranking = [hit.id for hit in response.hits]
        # a name on more than 10 maps: recall@10 is out of the 10 a top 10 can hold
        recalls.append(
            recall_at_k(ranking, relevant, 10)
            if len(relevant) <= 10
            else len(set(ranking[:10]) & set(relevant)) / 10
        )
        ndcgs.append(ndcg_at_k(ranking, relevant, 10))
        for hit in response.hits:
            labels = truth.get(hit.id, {}).get("label_boxes", [])
            for word in hit.map_text:
                boxes_checked += 1
                boxes_ok += any(
                    iou(word.box, label["box"]) >= 0.5
                    and any(
                        fuzzy_match(fold(word.text), fold(t)) for t in str(label["text"]).split()
                    )
                    for label in labels
                )
    latencies.sort()
    return {
        "mode": mode,
        "queries": len(queries),
        "recall@10": round(sum(recalls) / len(recalls), 4),
        "ndcg@10": round(sum(ndcgs) / len(ndcgs), 4),
        "matched_words": boxes_checked,
        "box_iou_0.5": round(boxes_ok / boxes_checked, 4) if boxes_checked else None,
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 2),
    }


def _names(word: str, label: str) -> bool:
    return any(fuzzy_match(fold(word), fold(part)) for part in str(label).split())


def main() -> None:
    """Print one JSON line per backend and mode."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weight", type=float)
    parser.add_argument("--es-url")
    parser.add_argument(
        "--clear-only", action="store_true", help="only names on labels nothing else covers"
    )
    args = parser.parse_args()
    if args.weight is not None:
        set_map_text_weight(args.weight)
    settings = load_settings({"data_dir": args.data_dir, "model": "demo"})
    from indexer.backends import open_backend
    from indexer.embedder import process_embedder

    truth = read_ground_truth_boxes(args.data_dir)
    embedded = open_backend(settings)
    queries = name_queries(embedded, truth, args.queries, args.seed, args.clear_only)
    reading = ReadingScore()
    stored = embedded.fetch(sorted(truth))
    for doc_id, boxes in truth.items():
        if doc_id in stored:
            words = stored[doc_id].record.map_text
            score_map(reading, boxes["label_boxes"], words, boxes["ornament_boxes"])
    engines = sorted({str(doc.record.map_text_engine) for doc in stored.values()})
    print(json.dumps({"reading": engines, "maps": len(stored), **reading.as_dict()}), flush=True)
    backends: list[tuple[str, SearchBackend]] = [("embedded", embedded)]
    if args.es_url:
        backends.append(("elasticsearch", _es_copy(embedded, sorted(truth), args.es_url)))
    embedder = process_embedder(settings)
    for name, backend in backends:
        service = SearchService(settings, backend, embedder)
        modes: tuple[Literal["keyword", "hybrid"], ...] = ("keyword", "hybrid")
        for mode in modes:
            row = evaluate(service, backend, queries, truth, mode)
            extra = {"backend": name, "weight": args.weight, "clear_only": args.clear_only}
            print(json.dumps({**extra, **row}), flush=True)


def _es_copy(source: SearchBackend, ids: list[str], url: str) -> SearchBackend:
    """A fresh Elasticsearch index (newest mapping) holding the same documents."""
    from indexer.backends.elasticsearch import ElasticsearchBackend
    from indexer.backends.es_client import make_client

    client = make_client(url, timeout=60)
    prefix = "maptext-eval"
    client.indices.delete(
        index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True, expand_wildcards="all"
    )
    backend = ElasticsearchBackend(client, prefix)
    report = backend.write(list(source.fetch(ids).values()))
    assert report.failed == 0, report
    backend.refresh()
    return backend


if __name__ == "__main__":
    main()
