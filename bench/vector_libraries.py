"""The vector-index libraries side by side on the same vectors (issue 13's choice): faiss IVF-SQ8 as
the embedded backend builds it (with its float32 rescoring), faiss HNSW, hnswlib HNSW and usearch
HNSW (int8), each against exact search: build seconds, index MB, p50 per query, recall@10 and
recall@200. hnswlib and usearch are not project dependencies: install them by hand into the
environment that runs this (``uv pip install --python .venv/bin/python hnswlib usearch``).
Usage: ``python bench/vector_libraries.py --vectors FILE.npy | --clustered N``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

M, EF_CONSTRUCTION = 16, 100  # Elasticsearch's HNSW defaults


def recall_and_time(
    search: Callable[[np.ndarray, int], np.ndarray],
    queries: np.ndarray,
    truth: list[np.ndarray],
    k: int,
) -> tuple[float, float]:
    """(mean recall@k, p50 ms) of ``search(query, k) -> ids``."""
    shares, times = [], []
    for query, expected in zip(queries, truth, strict=True):
        started = time.perf_counter()
        found = search(query, k)
        times.append(time.perf_counter() - started)
        shares.append(len(set(found.tolist()) & set(expected[:k].tolist())) / k)
    return round(float(np.mean(shares)), 4), round(float(np.median(times)) * 1000, 2)


def contenders(
    matrix: np.ndarray,
) -> dict[str, tuple[float, float, Callable[[np.ndarray, int], np.ndarray]]]:
    """name -> (build seconds, index MB, search function)."""
    import faiss
    import hnswlib
    from usearch.index import Index

    from indexer.backends.vector_index import build

    found: dict[str, tuple[float, float, Callable[[np.ndarray, int], np.ndarray]]] = {}
    count, dims = matrix.shape
    everything = np.ones(count, bool)

    started = time.perf_counter()
    ivf = build(matrix, everything, seq=1)
    seconds = time.perf_counter() - started

    def ivf_search(query: np.ndarray, k: int) -> np.ndarray:
        proposed = ivf.candidates(query, everything, count, k, 1.0)
        return proposed[np.argsort(-(matrix[proposed] @ query))[:k]]

    found["faiss IVF-SQ8 + float32 rescoring (shipped)"] = (
        seconds,
        len(faiss.serialize_index(ivf.index)) / 2**20,
        ivf_search,
    )

    started = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(dims, M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = EF_CONSTRUCTION
    hnsw.add(matrix)
    seconds = time.perf_counter() - started

    def faiss_hnsw(query: np.ndarray, k: int) -> np.ndarray:
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(128, 2 * k)
        return hnsw.search(query[None, :], k, params=params)[1][0]

    found[f"faiss HNSW M{M} efC{EF_CONSTRUCTION}, ef max(128, 2k)"] = (
        seconds,
        len(faiss.serialize_index(hnsw)) / 2**20,
        faiss_hnsw,
    )

    started = time.perf_counter()
    graph = hnswlib.Index(space="ip", dim=dims)
    graph.init_index(max_elements=count, M=M, ef_construction=EF_CONSTRUCTION)
    graph.add_items(matrix, np.arange(count))
    seconds = time.perf_counter() - started

    def hnswlib_search(query: np.ndarray, k: int) -> np.ndarray:
        graph.set_ef(max(128, 2 * k))
        return graph.knn_query(query, k=k)[0][0].astype(np.int64)

    found[f"hnswlib HNSW M{M} efC{EF_CONSTRUCTION}, ef max(128, 2k)"] = (
        seconds,
        count * (dims * 4 + M * 2 * 4) / 2**20,
        hnswlib_search,
    )

    started = time.perf_counter()
    usearch_index = Index(
        ndim=dims, metric="ip", dtype="i8", connectivity=M, expansion_add=EF_CONSTRUCTION
    )
    usearch_index.add(np.arange(count), matrix)
    seconds = time.perf_counter() - started

    def usearch_search(query: np.ndarray, k: int) -> np.ndarray:
        depth = max(100, 2 * k)
        proposed = np.asarray(usearch_index.search(query, depth).keys, np.int64)
        return proposed[np.argsort(-(matrix[proposed] @ query))[:k]]

    found[f"usearch HNSW int8 M{M} + float32 rescoring"] = (
        seconds,
        usearch_index.memory_usage / 2**20,
        usearch_search,
    )
    return found


def main(argv: Sequence[str] | None = None) -> None:
    """Build each contender on the vectors, then query each with held-out vectors."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--vectors", type=Path, help="an .npy matrix (e.g. bench/vector_recall.py's)"
    )
    parser.add_argument("--clustered", type=int, help="use N clustered bench vectors instead")
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args(argv)
    if args.vectors:
        matrix = np.load(args.vectors).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix, queries = matrix[: -args.queries], matrix[-args.queries :]
    else:
        from embedded_search import cluster_centres, clustered_vectors

        matrix = clustered_vectors(cluster_centres(), args.clustered, seed=1)
        queries = clustered_vectors(cluster_centres(), args.queries, seed=99)
    matrix = np.ascontiguousarray(matrix)
    truth = [np.argsort(-(matrix @ query))[:200] for query in queries]
    rows = []
    for name, (seconds, megabytes, search) in contenders(matrix).items():
        row: dict[str, object] = {
            "contender": name,
            "build_s": round(seconds, 1),
            "index_mb": round(megabytes),
        }
        for k in (10, 200):
            row[f"recall@{k}"], row[f"p50_ms@{k}"] = recall_and_time(search, queries, truth, k)
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    print(json.dumps({"vectors": len(matrix), "queries": len(queries), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
