"""Search latency with map text at scale: N synthetic documents (the catalogue records and
clustered 512-d vectors of ``bench/embedded_search.py``), each with 50–300 words read "from its
map" (invented place names, most frequent ones commonest), against the same documents without
map text (search as it is today). Keyword and hybrid p50/p95 through the search service for
catalogue queries, map-word queries and one-edit typos of map words, on the embedded backend and
(``--es-url``) Elasticsearch.

At scale the build and the timing are separate commands, so the build runs at low priority and
only the timing holds the machine (docs/benchmarks.md):

    nice -n 10 python bench/map_text_latency.py --phase build --size 100000 --es-url URL
    flock /tmp/mapsearch-bench.lock python bench/map_text_latency.py --phase measure \
        --size 100000 --es-url URL

``--phase all`` (the default) builds and measures in one go (small sizes)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embedded_search import (  # noqa: E402  (the shared corpus generator)
    VectorTable,
    cluster_centres,
    clustered_vectors,
    documents,
    percentiles,
    query_texts,
    sample_records,
    timed,
)

from indexer.backends.base import SearchBackend  # noqa: E402
from indexer.records import IndexDocument, MapWord  # noqa: E402
from indexer.synthetic.lettering import SYLLABLES  # noqa: E402


def vocabulary(seed: int = 17) -> list[str]:
    """Every invented place name of two or three syllables (≈ 33,000), in a random order."""
    names = {
        (a + b + c).capitalize(): None
        for a in SYLLABLES
        for b in SYLLABLES
        for c in ("", *SYLLABLES)
    }
    order = np.random.default_rng(seed).permutation(len(names))
    listed = list(names)
    return [listed[i] for i in order.tolist()]


def with_words(
    batches: Iterator[tuple[list[IndexDocument], float]], words: list[str]
) -> Iterator[list[IndexDocument]]:
    """The batches, each document given 50–300 map words (Zipf-like: common names recur)."""
    rng = np.random.default_rng(23)
    weights = 1 / np.arange(1, len(words) + 1)
    weights /= weights.sum()
    for batch, _ in batches:
        for doc in batch:
            count = int(rng.integers(50, 301))
            picks = rng.choice(len(words), size=count, p=weights)
            # model_construct: 175 validated MapWords a document were a third of the build
            doc.record.map_text = [
                MapWord.model_construct(text=words[i], box=(10 * n, 20, 80, 20), score=0.9)
                for n, i in enumerate(picks.tolist())
            ]
        yield batch


def typo(word: str, rng: np.random.Generator) -> str:
    """``word`` with one letter changed (a reading error)."""
    position = int(rng.integers(1, len(word)))
    letter = "x" if word[position] != "x" else "z"
    return word[:position] + letter + word[position + 1 :]


def build(backend: SearchBackend, size: int, map_text: bool, words: list[str]) -> float:
    """Write ``size`` documents; returns seconds."""
    started = time.perf_counter()
    batches = documents(sample_records(), size, cluster_centres())
    stream = with_words(batches, words) if map_text else (batch for batch, _ in batches)
    for batch in stream:
        report = backend.write(batch)
        assert report.failed == 0, report.errors
    backend.refresh()
    return time.perf_counter() - started


def measure(backend: SearchBackend, count: int, words: list[str]) -> dict[str, Any]:
    """p50/p95 of keyword and hybrid queries of each kind."""
    from indexer.settings import Settings
    from webapi.search.params import SearchParams
    from webapi.search.service import SearchService

    rng = np.random.default_rng(5)
    common = [w for w in words[:2000] if len(w) >= 6]
    kinds = {
        "catalogue": query_texts(sample_records(), count),
        "map_word": [str(rng.choice(common)) for _ in range(count)],
        "map_typo": [typo(str(rng.choice(common)), rng) for _ in range(count)],
    }
    vectors = clustered_vectors(cluster_centres(), 3 * count, seed=99)
    texts = [t for queries in kinds.values() for t in queries]
    service = SearchService(
        Settings(), backend, VectorTable({t: vectors[i] for i, t in enumerate(texts)})
    )
    results: dict[str, Any] = {}
    modes: tuple[Literal["keyword", "hybrid"], ...] = ("keyword", "hybrid")
    for kind, queries in kinds.items():
        for mode in modes:

            def run(i: int, queries: list[str] = queries, mode: Any = mode) -> object:
                return service.search(SearchParams(q=queries[i], mode=mode))

            results[f"{kind}/{mode}"] = percentiles(timed(run, count))
        results[f"{kind}/matches_median"] = float(
            np.median([service.search(SearchParams(q=q, mode="keyword")).total for q in queries])
        )
    return results


Phase = Literal["build", "measure", "all"]


def open_backends(
    args: argparse.Namespace, map_text: bool, fresh: bool
) -> list[tuple[str, SearchBackend]]:
    """The index of each asked backend for one variant (``fresh``: emptied first)."""
    from indexer.backends.embedded import EmbeddedBackend

    variant = "with" if map_text else "without"
    backends: list[tuple[str, SearchBackend]] = []
    if not args.no_embedded:
        directory = args.dir / str(args.size) / variant
        if fresh:
            shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True, exist_ok=True)
        # the vector index and columns snapshot are built inline at the first search (during the
        # build phase), never on a thread while queries are timed
        backends.append(
            ("embedded", EmbeddedBackend(directory / "index.sqlite", index_in_background=False))
        )
    if args.es_url:
        from indexer.backends.elasticsearch import ElasticsearchBackend
        from indexer.backends.es_client import make_client

        client = make_client(args.es_url, timeout=300)
        prefix = f"maptext-latency-{args.size}-{variant}"
        if fresh:
            client.indices.delete(
                index=f"{prefix}-*",
                ignore_unavailable=True,
                allow_no_indices=True,
                expand_wildcards="all",
            )
        backends.append(("elasticsearch", ElasticsearchBackend(client, prefix)))
    return backends


def settle(backend: SearchBackend) -> float:
    """Bring an index to its serving state before it is timed (embedded: snapshot and vector
    index built; Elasticsearch: merged to one segment); returns seconds."""
    from webapi.search.params import SearchParams

    started = time.perf_counter()
    client = getattr(backend, "client", None)
    if client is not None:
        client.indices.forcemerge(
            index=backend.target,
            max_num_segments=1,
            wait_for_completion=True,  # type: ignore[attr-defined]
        )
        client.indices.refresh(index=backend.target)  # type: ignore[attr-defined]
    from indexer.settings import Settings
    from webapi.search.service import SearchService

    vector = clustered_vectors(cluster_centres(), 1, seed=1)[0]
    service = SearchService(Settings(), backend, VectorTable({"harbour": vector}))
    service.search(SearchParams(q="harbour", mode="hybrid"))
    return time.perf_counter() - started


def main() -> None:
    """Print one JSON line per backend and variant (with / without map text)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/maptext-latency"))
    parser.add_argument("--es-url")
    parser.add_argument("--no-embedded", action="store_true", help="Elasticsearch only")
    parser.add_argument("--phase", choices=["build", "measure", "all"], default="all")
    parser.add_argument("--variant", choices=["with", "without", "both"], default="both")
    args = parser.parse_args()
    phase: Phase = args.phase
    words = vocabulary()
    variants = [v for v in (False, True) if args.variant in ("both", "with" if v else "without")]
    for map_text in variants:
        for name, backend in open_backends(args, map_text, fresh=phase != "measure"):
            row: dict[str, Any] = {"backend": name, "map_text": map_text, "documents": args.size}
            if phase != "measure":
                row["build_s"] = round(build(backend, args.size, map_text, words), 1)
                row["settle_s"] = round(settle(backend), 1)
            if phase != "build":
                row.update(measure(backend, args.queries, words))
            print(json.dumps(row), flush=True)
            backend.close()


if __name__ == "__main__":
    main()
