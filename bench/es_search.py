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
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch

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


def create(client: Elasticsearch, vector_options: dict[str, Any] | None) -> str:
    """A fresh physical index of the latest mapping with the product's bulk-load settings (and,
    for comparisons, other image-vector ``index_options``), behind the bench alias."""
    client.indices.delete(index=f"{PREFIX}-maps-v*", ignore_unavailable=True, allow_no_indices=True)
    if vector_options is None:
        index = es_lifecycle.create_index(client, PREFIX, dims=512, bulk_load=True)
    else:
        version = es_lifecycle.es_mappings.latest_version()
        definition = es_lifecycle.index_definition(version, 512, english=False)
        definition["mappings"]["properties"]["vector"]["index_options"] = vector_options
        settings = {**definition["settings"], **es_lifecycle.BULK_LOAD_SETTINGS}
        if es_lifecycle.cluster_major_version(client) >= 9:
            settings["index.mapping.exclude_source_vectors"] = False
        index = es_lifecycle.physical_name(PREFIX, version)
        client.indices.create(index=index, settings=settings, mappings=definition["mappings"])
        client.cluster.health(index=index, wait_for_status="yellow", timeout="30s")
    es_lifecycle.point_alias(client, PREFIX, index, None)
    return index


def es_cpu_seconds(client: Elasticsearch) -> float:
    """CPU time the Elasticsearch node processes have used so far (every thread, all nodes)."""
    nodes = client.nodes.stats(metric="process")["nodes"].values()
    return sum(node["process"]["cpu"]["total_in_millis"] for node in nodes) / 1000


def wait_for_merges(client: Elasticsearch, index: str) -> None:
    """Until the background merges the load started have finished (they count in the rate)."""
    while True:
        stats = client.indices.stats(index=index, metric="merge")
        if stats["_all"]["primaries"]["merges"]["current"] == 0:
            return
        time.sleep(0.5)


def build(
    backend: ElasticsearchBackend,
    size: int,
    vector_options: dict[str, Any] | None = None,
    force_merge: bool = False,
) -> dict[str, float]:
    """Fresh index (bulk-load settings) → write ``size`` documents → restore (the product's
    ``finish_bulk_load``: refresh, and merges it waits for) → optionally force-merge."""
    client = backend.client
    index = create(client, vector_options)
    records, centres = sample_records(), cluster_centres()
    write_seconds, written, failed = 0.0, 0, 0
    es_cpu_before, write_cpu = es_cpu_seconds(client), 0.0
    for batch, _vector_seconds in documents(records, size, centres):
        started, cpu_started = time.perf_counter(), time.process_time()
        report = backend.write(batch)
        write_seconds += time.perf_counter() - started
        write_cpu += time.process_time() - cpu_started
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
    wait_for_merges(client, index)
    if force_merge:
        client.options(request_timeout=3600).indices.forcemerge(index=index, max_num_segments=1)
    merge_seconds = time.perf_counter() - started
    es_cpu = es_cpu_seconds(client) - es_cpu_before
    segments = client.indices.segments(index=index)["indices"][index]["shards"]["0"][0]
    return {
        "documents": written,
        "failed": failed,
        "write_seconds": round(write_seconds, 1),
        "docs_per_second_bulk": round(written / write_seconds),
        "refresh_seconds": round(refresh_seconds, 1),
        "merge_seconds": round(merge_seconds, 1),
        "segments": int(segments["num_search_segments"]),
        "docs_per_second_incl_merge": round(
            written / (write_seconds + refresh_seconds + merge_seconds)
        ),
        # CPU time per document does not depend on what else the shared machine runs
        "es_cpu_ms_per_doc": round(es_cpu * 1000 / written, 3),
        "client_cpu_ms_per_doc": round(write_cpu * 1000 / written, 3),
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
    parser.add_argument(
        "--vector-options",
        type=json.loads,
        help="image-vector index_options (JSON) instead of the mapping's",
    )
    parser.add_argument("--force-merge", action="store_true", help="force-merge to one segment")
    args = parser.parse_args(argv)
    backend = ElasticsearchBackend(make_client(args.url, timeout=600), PREFIX)
    figures: dict[str, object] = {
        "size": args.size,
        "vector_options": args.vector_options,
        "load_before": os.getloadavg(),
    }
    if not args.skip_build:
        figures["build"] = build(backend, args.size, args.vector_options, args.force_merge)
    backend.refresh()
    figures["index_mb"] = index_size_mb(backend)
    figures["documents"] = backend.info().documents
    figures["queries"] = measure_queries(backend, args.queries)
    figures["recall"] = measure_recall(backend, args.size, args.recall_queries)
    figures["load_after"] = os.getloadavg()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
