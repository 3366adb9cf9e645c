"""Elasticsearch vector options side by side (issue 13): for each ``index_options`` variant, a fresh
index of the bench collection (``bench/embedded_search.py``'s generator) is bulk-loaded through the
product writer with the bulk-load settings, restored and force-merged; then recall@10 against exact
cosine and p50 of semantic (k 10 / 100 / 1000) and hybrid (window 100) through the search service.
Usage: ``python bench/es_vector_options.py --url URL --size N [--queries Q] [--variant JSON]``."""

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embedded_search import (  # noqa: E402  (the shared corpus generator)
    BATCH,
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

PREFIX = "benchopts"
VARIANTS = (
    {"type": "int8_hnsw", "m": 16, "ef_construction": 100},
    {"type": "bbq_hnsw", "m": 16, "ef_construction": 100},
    {"type": "int8_hnsw", "m": 16, "ef_construction": 50},
    {"type": "bbq_flat"},
)


def create(backend: ElasticsearchBackend, options: dict[str, Any]) -> str:
    """A fresh physical index of the latest mapping with these vector options, bulk-load settings,
    behind the bench alias."""
    client = backend.client
    client.indices.delete(index=f"{PREFIX}-maps-v*", ignore_unavailable=True, allow_no_indices=True)
    definition = es_lifecycle.index_definition(
        es_lifecycle.es_mappings.latest_version(), 512, english=False
    )
    definition["mappings"]["properties"]["vector"]["index_options"] = options
    settings = {**definition["settings"], **es_lifecycle.BULK_LOAD_SETTINGS}
    if es_lifecycle.cluster_major_version(client) >= 9:
        settings["index.mapping.exclude_source_vectors"] = False
    name = es_lifecycle.physical_name(PREFIX, es_lifecycle.es_mappings.latest_version())
    client.indices.create(index=name, settings=settings, mappings=definition["mappings"])
    client.cluster.health(index=name, wait_for_status="yellow", timeout="30s")
    es_lifecycle.point_alias(client, PREFIX, name, None)
    return name


def load(backend: ElasticsearchBackend, index: str, size: int) -> dict[str, float]:
    """Bulk-write ``size`` documents, restore the settings, force-merge; docs/s with and without."""
    records, centres = sample_records(), cluster_centres()
    write_seconds, written = 0.0, 0
    for batch, _ in documents(records, size, centres):
        started = time.perf_counter()
        written += backend.write(batch).written
        write_seconds += time.perf_counter() - started
    started = time.perf_counter()
    es_lifecycle.restore_settings(backend.client, index)
    backend.client.options(request_timeout=3600).indices.forcemerge(index=index, max_num_segments=1)
    merge_seconds = time.perf_counter() - started
    return {
        "documents": written,
        "bulk_docs_per_s": round(written / write_seconds),
        "refresh_and_merge_s": round(merge_seconds, 1),
        "docs_per_s_incl_merge": round(written / (write_seconds + merge_seconds)),
    }


def measure(backend: ElasticsearchBackend, size: int, count: int) -> dict[str, object]:
    """recall@10 against exact cosine, semantic p50 per depth, hybrid p50 (window 100)."""
    from indexer.settings import load_settings
    from webapi.search.params import SearchParams
    from webapi.search.service import SearchService

    centres = cluster_centres()
    matrix = np.concatenate(
        [clustered_vectors(centres, min(BATCH, size - s), seed=s) for s in range(0, size, BATCH)]
    )
    queries = clustered_vectors(centres, count, seed=99)
    figures: dict[str, object] = {}
    for k in (10, 100, 1000):
        recalls = []

        def run(i: int, k: int = k, recalls: list[float] = recalls) -> object:
            result = backend.search(BackendQuery(vector=queries[i], num_candidates=k))
            if len(recalls) < count:
                exact = np.argsort(-(matrix @ queries[i]))[:10]
                expected = {f"bench:{n}/1" for n in exact.tolist()}
                recalls.append(len(expected & {h.id for h in result.semantic[:10]}) / 10)
            return result

        figures[f"semantic_k{k}"] = {
            **percentiles(timed(run, count)),
            "recall@10": round(float(np.mean(recalls[-count:])), 4),
        }
    texts = query_texts(sample_records(), count)
    table = {t: queries[i] for i, t in enumerate(texts)}
    settings = load_settings({"backend": "elasticsearch", "num_candidates": 100})
    service = SearchService(settings, backend, VectorTable(table))
    figures["hybrid_window100"] = percentiles(
        timed(lambda i: service.search(SearchParams(q=texts[i], mode="hybrid")), count)
    )
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    """Each variant in turn; prints one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=os.environ.get("MAPSEARCH_TEST_ES_URL"))
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--variant", action="append", type=json.loads)
    args = parser.parse_args(argv)
    backend = ElasticsearchBackend(make_client(args.url, timeout=600), PREFIX)
    runs = []
    for options in args.variant or VARIANTS:
        load_before = os.getloadavg()
        index = create(backend, options)
        built = load(backend, index, args.size)
        backend.refresh()
        run = {"index_options": options, **built, "load_before": load_before}
        run.update(measure(backend, args.size, args.queries))
        run["load_after"] = os.getloadavg()
        print(json.dumps(run), file=sys.stderr, flush=True)
        runs.append(run)
    backend.client.indices.delete(index=f"{PREFIX}-maps-v*", ignore_unavailable=True)
    print(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
