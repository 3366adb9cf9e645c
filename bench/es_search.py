"""Benchmark of the Elasticsearch backend on the same synthetic 562,842 × 512 collection as
``bench/embedded_search.py``: bulk docs/s, index size, p50/p95 of keyword, semantic and hybrid
queries (two facets + a year filter, after force-merge) through the search service, and recall@10
of the HNSW results against exact numpy search.
Usage: ``python bench/es_search.py [--size N] [--queries Q] [--recall-queries R] [--url URL]``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embedded_search import (  # noqa: E402  (the shared corpus generator)
    BATCH,
    FACETS,
    PAPER_SIZE,
    YEAR_FILTER,
    VectorTable,
    cluster_centres,
    clustered_vectors,
    documents,
    percentiles,
    query_texts,
    sample_records,
    timed,
)

from indexer.backends import es_lifecycle  # noqa: E402
from indexer.backends.base import BackendQuery  # noqa: E402
from indexer.backends.elasticsearch import ElasticsearchBackend  # noqa: E402
from indexer.backends.es_client import make_client  # noqa: E402

DEFAULT_URL = os.environ.get("MAPSEARCH_TEST_ES_URL", "http://127.0.0.1:9200")
PREFIX = "bench"


def build(backend: ElasticsearchBackend, size: int) -> dict[str, float]:
    """Fresh index (bulk-load settings) → write ``size`` documents → restore → force-merge."""
    client = backend.client
    client.indices.delete(index=f"{PREFIX}-maps-v*", ignore_unavailable=True, allow_no_indices=True)
    index = es_lifecycle.create_index(client, PREFIX, dims=512, bulk_load=True)
    es_lifecycle.point_alias(client, PREFIX, index, None)
    records, centres = sample_records(), cluster_centres()
    write_seconds, written, failed = 0.0, 0, 0
    for batch, _vector_seconds in documents(records, size, centres):
        started = time.perf_counter()
        report = backend.write(batch)
        write_seconds += time.perf_counter() - started
        written, failed = written + report.written, failed + report.failed
        if written % 50_000 < BATCH:
            print(
                f"  wrote {written:,} docs ({written / write_seconds:,.0f}/s)",
                file=sys.stderr,
                flush=True,
            )
    started = time.perf_counter()
    es_lifecycle.restore_settings(client, index)
    refresh_seconds = time.perf_counter() - started
    started = time.perf_counter()
    client.options(request_timeout=3600).indices.forcemerge(index=index, max_num_segments=1)
    merge_seconds = time.perf_counter() - started
    return {
        "documents": written,
        "failed": failed,
        "write_seconds": round(write_seconds, 1),
        "docs_per_second_bulk": round(written / write_seconds),
        "refresh_seconds": round(refresh_seconds, 1),
        "forcemerge_seconds": round(merge_seconds, 1),
        "docs_per_second_incl_merge": round(
            written / (write_seconds + refresh_seconds + merge_seconds)
        ),
    }


def index_size_mb(backend: ElasticsearchBackend) -> float:
    """Primary store size of the live index."""
    stats = backend.client.indices.stats(index=backend.target, metric="store")
    return round(stats["_all"]["primaries"]["store"]["size_in_bytes"] / 2**20)


def measure_queries(backend: ElasticsearchBackend, count: int) -> dict[str, object]:
    """Keyword, semantic and hybrid through the search service, as the embedded bench does."""
    from indexer.settings import load_settings
    from webapi.search.params import SearchParams
    from webapi.search.service import SearchService

    texts = query_texts(sample_records(), count)
    query_vectors = clustered_vectors(cluster_centres(), count, seed=99)
    table = {f"q{i}": query_vectors[i] for i in range(count)} | {
        t: query_vectors[i] for i, t in enumerate(texts)
    }
    service = SearchService(
        load_settings({"backend": "elasticsearch"}), backend, VectorTable(table)
    )
    year_from, year_to = YEAR_FILTER
    common = {"year_from": year_from, "year_to": year_to, "facet": list(FACETS)}
    runs = {
        "keyword": lambda i: service.search(SearchParams(q=texts[i], mode="keyword", **common)),  # type: ignore[arg-type]
        "semantic": lambda i: service.search(SearchParams(q=f"q{i}", mode="semantic", **common)),  # type: ignore[arg-type]
        "hybrid": lambda i: service.search(SearchParams(q=texts[i], mode="hybrid", **common)),  # type: ignore[arg-type]
    }
    results: dict[str, object] = {}
    for name, run in runs.items():
        results[name] = percentiles(timed(run, count))
        print(f"  {name}: {results[name]}", file=sys.stderr, flush=True)
    return results


def measure_recall(
    backend: ElasticsearchBackend, size: int, count: int, k: int = 10
) -> dict[str, float]:
    """recall@k of the backend's semantic list (HNSW int8 + float rescoring) vs exact cosine."""
    centres = cluster_centres()
    matrix = np.concatenate(
        [clustered_vectors(centres, min(BATCH, size - s), seed=s) for s in range(0, size, BATCH)]
    )
    queries = clustered_vectors(centres, count, seed=1234)
    recalls, latencies = [], []
    for vector in queries:
        exact = np.argpartition(-(matrix @ vector), k)[:k]
        expected = {f"bench:{n}/1" for n in exact.tolist()}
        started = time.perf_counter()
        result = backend.search(BackendQuery(vector=vector, num_candidates=1000))
        latencies.append(time.perf_counter() - started)
        recalls.append(len(expected & {h.id for h in result.semantic[:k]}) / k)
    return {
        "recall_at_10": round(float(np.mean(recalls)), 4),
        "min_recall_at_10": float(np.min(recalls)),
        "backend_semantic_k1000": percentiles(latencies),
    }  # type: ignore[dict-item]


def main(argv: Sequence[str] | None = None) -> None:
    """Build (unless --skip-build), then measure; prints one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=PAPER_SIZE)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--recall-queries", type=int, default=200)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--skip-build", action="store_true", help="reuse the bench index")
    args = parser.parse_args(argv)
    backend = ElasticsearchBackend(make_client(args.url, timeout=600), PREFIX)
    figures: dict[str, object] = {"size": args.size, "load_before": os.getloadavg()}
    if not args.skip_build:
        figures["build"] = build(backend, args.size)
    backend.refresh()
    figures["index_mb"] = index_size_mb(backend)
    figures["documents"] = backend.info().documents
    figures["queries"] = measure_queries(backend, args.queries)
    figures["recall"] = measure_recall(backend, args.size, args.recall_queries)
    figures["load_after"] = os.getloadavg()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
