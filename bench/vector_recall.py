"""Recall of the embedded backend's vector index on real model outputs (issue 13): embed a large
synthetic demo collection with the demo CLIP (images drawn at the 128 px the model sees), then
compare the index's top-k (as the planner searches it, exact rescoring included) with the exact
top-k for image queries (held-out maps) and text queries (attribute phrases).
Usage: ``python bench/vector_recall.py --size 20000 [--cache FILE] [--queries Q]``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.backends.vector_index import build  # noqa: E402
from indexer.backends.vector_kernel import exact_top  # noqa: E402

TEXTS = (
    "a sea chart",
    "a city plan",
    "a grayscale map",
    "a sepia-toned map",
    "a map with a sea monster",
    "a map with a compass rose",
    "a colourful county map",
    "a road map",
    "a blue nautical chart with a kraken",
    "a hand-coloured atlas sheet",
)


def embed_collection(size: int, seed: int, batch: int = 64) -> np.ndarray:
    """Demo-model image vectors of ``size`` synthetic maps (drawn at 128 px)."""
    from indexer.embedder import process_embedder
    from indexer.settings import load_settings
    from indexer.synthetic import generate_world

    embedder = process_embedder(load_settings({"model": "demo"}))
    vectors, images = [], []
    started = time.perf_counter()
    for number, smap in enumerate(generate_world(size, seed=seed), start=1):
        images.append(smap.render(max_side=128))
        if len(images) == batch or number == size:
            vectors.append(np.asarray(embedder.embed_images(images), np.float32))
            images = []
        if number % 2000 == 0:
            rate = number / (time.perf_counter() - started)
            print(f"  embedded {number:,} maps ({rate:.0f}/s)", file=sys.stderr, flush=True)
    return np.concatenate(vectors)


def text_vectors() -> np.ndarray:
    """Demo-model vectors of the attribute phrases."""
    from indexer.embedder import process_embedder
    from indexer.settings import load_settings

    embedder = process_embedder(load_settings({"model": "demo"}))
    return np.stack([embedder.embed_query_text(text) for text in TEXTS]).astype(np.float32)


def recall_at(matrix: np.ndarray, queries: np.ndarray, ks: Sequence[int]) -> dict[str, object]:
    """recall@k of the index (candidates rescored exactly, as the planner does) per k."""
    has_vector = np.ones(len(matrix), bool)
    started = time.perf_counter()
    index = build(matrix, has_vector, seq=1)
    figures: dict[str, object] = {
        "build_s": round(time.perf_counter() - started, 2),
        "lists": int(index.index.nlist),
    }
    for k in ks:
        shares, times = [], []
        for query in queries:
            began = time.perf_counter()
            proposed = index.candidates(query, has_vector, len(matrix), k, 1.0)
            scores = matrix[proposed] @ query
            found = proposed[np.argsort(-scores)[:k]]
            times.append(time.perf_counter() - began)
            truth, _ = exact_top(matrix, has_vector, query, k)
            shares.append(len(set(found.tolist()) & set(truth.tolist())) / min(k, len(truth)))
        figures[f"recall@{k}"] = round(float(np.mean(shares)), 4)
        figures[f"min_recall@{k}"] = round(float(np.min(shares)), 4)
        figures[f"p50_ms@{k}"] = round(float(np.median(times)) * 1000, 2)
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    """Embed (or reuse the cached vectors), then measure recall for image and text queries."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/mapsearch-demo-vectors.npy"))
    args = parser.parse_args(argv)
    if args.cache.exists():
        matrix = np.load(args.cache)
    else:
        matrix = embed_collection(args.size + args.queries, seed=11)
        np.save(args.cache, matrix)
    matrix = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    collection, held_out = matrix[: args.size], matrix[args.size : args.size + args.queries]
    figures = {
        "size": len(collection),
        "image_queries": recall_at(collection, held_out, (10, 200, 1000)),
        "text_queries": recall_at(collection, text_vectors(), (10, 200, 1000)),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
