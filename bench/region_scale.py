"""Region search at scale (docs/regions.md): synthetic clustered whole-map and region vectors
written through the real backends, then semantic (embedded) and hybrid (Elasticsearch, nested
kNN) query latency with and without regions, index size, build rate and memory.

Usage: ``python bench/region_scale.py [--maps 10000] [--regions-per-map 17] [--dims 512]
[--es-url http://127.0.0.1:9200 --es-maps 2000]``. Latency grows with the number of region
vectors (the embedded backend scores all of them exactly), so figures at a smaller size
extrapolate linearly to the paper's 562,842 maps; say which size was measured."""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.backends.base import BackendQuery, SearchBackend  # noqa: E402
from indexer.records import IndexDocument, MapRecord  # noqa: E402
from indexer.region_set import RegionSet  # noqa: E402

PAPER_SIZE = 562_842
CLUSTERS = 500
MODEL_ID = "bench-synthetic-regions"
BATCH = 1000
GRID = "2,4@0.25"


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def documents(count: int, per_map: int, dims: int, seed: int = 0) -> Any:
    """Maps near one of CLUSTERS centres, their regions near the map (clustered, like CLIP)."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((CLUSTERS, dims)))
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        whole = unit(
            centres[rng.integers(0, CLUSTERS, size)] + 0.04 * rng.standard_normal((size, dims))
        )
        batch = []
        for i in range(size):
            n = start + i
            regions = unit(whole[i] + 0.06 * rng.standard_normal((per_map, dims)))
            boxes = [(64 * (j % 4), 64 * (j // 4), 512, 512) for j in range(per_map)]
            batch.append(
                IndexDocument(
                    record=MapRecord(
                        id=f"bench:{n:07d}", source="bench", title=f"Map {n}",
                        year_start=1500 + n % 460,
                    ),
                    vector=whole[i],
                    model_id=MODEL_ID,
                    regions=RegionSet.build(GRID, boxes, [4] * per_map, regions),
                )
            )  # fmt: skip
        yield batch


def queries(count: int, dims: int) -> list[np.ndarray]:
    rng = np.random.default_rng(99)
    return list(unit(rng.standard_normal((count, dims))))


def latency(backend: SearchBackend, vectors: list[np.ndarray], **fields: Any) -> dict[str, float]:
    times = []
    for vector in vectors:
        started = time.perf_counter()
        backend.search(BackendQuery(vector=vector, num_candidates=200, **fields))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
    }


def embedded(args: argparse.Namespace, vectors: list[np.ndarray]) -> dict[str, Any]:
    from indexer.backends.embedded import EmbeddedBackend

    with tempfile.TemporaryDirectory(prefix="region-scale-", dir=args.dir) as scratch:
        path = Path(scratch) / "index.sqlite"
        backend = EmbeddedBackend(path)
        started = time.perf_counter()
        for batch in documents(args.maps, args.regions_per_map, args.dims):
            backend.write(batch)
        build_s = time.perf_counter() - started
        backend.close()
        size_mb = sum(f.stat().st_size for f in Path(scratch).iterdir()) / 2**20
        reader = EmbeddedBackend(path)
        started = time.perf_counter()
        reader.search(BackendQuery(vector=vectors[0], num_candidates=200))
        first_s = time.perf_counter() - started
        with_regions = latency(reader, vectors[1:])
        whole_only = latency(reader, vectors[1:], regions=False)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        reader.close()
    regions = args.maps * args.regions_per_map
    return {
        "maps": args.maps,
        "regions": regions,
        "build_s": round(build_s, 1),
        "build_maps_per_s": round(args.maps / build_s, 1),
        "build_regions_per_s": round(regions / build_s, 1),
        "file_mb": round(size_mb, 1),
        "first_search_s": round(first_s, 2),
        "semantic_with_regions": with_regions,
        "semantic_whole_only": whole_only,
        "max_rss_mb": round(rss_mb),
        "extrapolated_to_paper": {
            "regions": PAPER_SIZE * args.regions_per_map,
            "region_matrix_gb_float32": round(
                PAPER_SIZE * args.regions_per_map * args.dims * 4 / 2**30, 1
            ),
            "semantic_with_regions_p50_ms": round(with_regions["p50_ms"] * PAPER_SIZE / args.maps),
        },
    }


def elasticsearch(args: argparse.Namespace, vectors: list[np.ndarray]) -> dict[str, Any]:
    from indexer.backends.elasticsearch import ElasticsearchBackend
    from indexer.backends.elasticsearch_lifecycle import ElasticsearchLifecycle
    from indexer.backends.es_client import make_client

    client = make_client(args.es_url, 120.0)
    prefix = f"regionscale{os.getpid()}"
    try:
        ElasticsearchLifecycle(client, prefix).create(dims=args.dims)
        backend = ElasticsearchBackend(client, prefix)
        started = time.perf_counter()
        for batch in documents(args.es_maps, args.regions_per_map, args.dims):
            report = backend.write(batch)
            assert report.failed == 0, report.errors
        backend.refresh()
        build_s = time.perf_counter() - started
        client.indices.forcemerge(index=f"{prefix}-maps", max_num_segments=1)
        stats = client.indices.stats(index=f"{prefix}-maps")["_all"]["primaries"]
        backend.search(BackendQuery(text="map", vector=vectors[0], num_candidates=200))
        hybrid = latency(backend, vectors[1:], text="map")
        hybrid_whole = latency(backend, vectors[1:], text="map", regions=False)
    finally:
        for name in client.indices.get(index=f"{prefix}-*"):
            client.indices.delete(index=name)
    return {
        "maps": args.es_maps,
        "regions": args.es_maps * args.regions_per_map,
        "build_s": round(build_s, 1),
        "build_maps_per_s": round(args.es_maps / build_s, 1),
        "store_mb": round(stats["store"]["size_in_bytes"] / 2**20, 1),
        "hybrid_with_regions": hybrid,
        "hybrid_whole_only": hybrid_whole,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--maps", type=int, default=10_000)
    parser.add_argument("--regions-per-map", type=int, default=17)
    parser.add_argument("--dims", type=int, default=512)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--dir", default=None)
    parser.add_argument("--es-url")
    parser.add_argument("--es-maps", type=int, default=2000)
    args = parser.parse_args()
    vectors = queries(args.queries + 1, args.dims)
    report: dict[str, Any] = {"embedded": embedded(args, vectors)}
    if args.es_url:
        report["elasticsearch"] = elasticsearch(args, vectors)
    report["load_average"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
