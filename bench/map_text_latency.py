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
    DIMS,
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


def word_pool(words: list[str]) -> list[MapWord]:
    """One MapWord per vocabulary word, each with its own box: MapWord is frozen, so documents
    share these instances (constructing ~175 per document was most of the build's client time)."""
    return [
        MapWord.model_construct(text=word, box=(10 * (n % 400), 20 * (n % 300), 80, 20), score=0.9)
        for n, word in enumerate(words)
    ]


def with_words(
    batches: Iterator[tuple[list[IndexDocument], float]], words: list[str]
) -> Iterator[list[IndexDocument]]:
    """The batches, each document given 50–300 map words (Zipf-like: common names recur)."""
    rng = np.random.default_rng(23)
    weights = 1 / np.arange(1, len(words) + 1)
    cumulative = np.cumsum(weights / weights.sum())
    pool = word_pool(words)
    for batch, _ in batches:
        counts = rng.integers(50, 301, size=len(batch))
        # one draw for the whole batch: inverse CDF of the Zipf-like weights
        picks = np.searchsorted(cumulative, rng.random(int(counts.sum())), side="right")
        picks = np.minimum(picks, len(words) - 1).tolist()
        start = 0
        for doc, count in zip(batch, counts.tolist(), strict=True):
            doc.record.map_text = [pool[i] for i in picks[start : start + count]]
            start += count
        yield batch


def typo(word: str, rng: np.random.Generator) -> str:
    """``word`` with one letter changed (a reading error)."""
    position = int(rng.integers(1, len(word)))
    letter = "x" if word[position] != "x" else "z"
    return word[:position] + letter + word[position + 1 :]


def build(backend: SearchBackend, size: int, map_text: bool, words: list[str]) -> dict[str, float]:
    """Write ``size`` documents through the backend's writer (Elasticsearch: into a new index with
    the product's bulk-load settings, restored at the end as ``es_lifecycle`` does for a
    reindex); returns seconds and documents per second."""
    started = time.perf_counter()
    client = getattr(backend, "client", None)
    index = None
    if client is not None:
        from indexer.backends import es_lifecycle

        prefix = backend.target.removesuffix("-maps")  # type: ignore[attr-defined]
        index = es_lifecycle.create_index(client, prefix, dims=DIMS, bulk_load=True)
        es_lifecycle.point_alias(client, prefix, index, None)
    batches = documents(sample_records(), size, cluster_centres())
    stream = with_words(batches, words) if map_text else (batch for batch, _ in batches)
    written = 0
    for batch in stream:
        report = backend.write(batch)
        assert report.failed == 0, report.errors
        written += report.written
        if written % 50_000 < len(batch):
            seconds = time.perf_counter() - started
            print(
                f"  {written:,} docs in {seconds:.0f} s ({written / seconds:.0f}/s)",
                file=sys.stderr,
                flush=True,
            )
    write_seconds = time.perf_counter() - started
    if client is not None and index is not None:
        from indexer.backends import es_lifecycle

        es_lifecycle.restore_settings(client, index)
    backend.refresh()
    seconds = time.perf_counter() - started
    return {
        "build_s": round(seconds, 1),
        "write_s": round(write_seconds, 1),
        "docs_per_s": round(written / seconds),
    }


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


Phase = Literal["build", "settle", "measure", "all"]


def open_backends(
    args: argparse.Namespace, map_text: bool, fresh: bool
) -> list[tuple[str, SearchBackend, bool]]:
    """The index of each asked backend for one variant, and whether it is a baseline given on
    the command line (searched, never written); others are emptied first when ``fresh``."""
    from indexer.backends.embedded import EmbeddedBackend

    variant = "with" if map_text else "without"
    backends: list[tuple[str, SearchBackend, bool]] = []
    if not args.no_embedded:
        baseline = not map_text and args.baseline_dir is not None
        directory = args.baseline_dir if baseline else args.dir / str(args.size) / variant
        if fresh and not baseline:
            shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True, exist_ok=True)
        # the vector index and columns snapshot are built inline at the first search (during the
        # build phase), never on a thread while queries are timed
        embedded = EmbeddedBackend(directory / "index.sqlite", index_in_background=False)
        backends.append(("embedded", embedded, baseline))
    if args.es_url:
        from indexer.backends.elasticsearch import ElasticsearchBackend
        from indexer.backends.es_client import make_client

        client = make_client(args.es_url, timeout=3600)
        baseline = not map_text and args.baseline_es_prefix is not None
        prefix = args.baseline_es_prefix if baseline else f"maptext-latency-{args.size}-{variant}"
        if fresh and not baseline:
            client.indices.delete(
                index=f"{prefix}-*",
                ignore_unavailable=True,
                allow_no_indices=True,
                expand_wildcards="all",
            )
        backends.append(("elasticsearch", ElasticsearchBackend(client, prefix), baseline))
    return backends


def index_shape(backend: SearchBackend) -> dict[str, Any]:
    """What was timed: Elasticsearch segments and store size, or the embedded file's size."""
    client = getattr(backend, "client", None)
    if client is None:
        path = Path(backend.path)  # type: ignore[attr-defined]
        return {"index": str(path), "file_mb": round(path.stat().st_size / 2**20)}
    target = backend.target  # type: ignore[attr-defined]
    stats = client.indices.stats(index=target, metric="store,segments")["_all"]["primaries"]
    return {
        "index": next(iter(client.indices.get_alias(name=target))),
        "segments": stats["segments"]["count"],
        "store_mb": round(stats["store"]["size_in_bytes"] / 2**20),
    }


def collection_digest(database: Path, immutable: bool = False) -> str:
    """SHA-256 of every document's docno, id and vector bytes, in docno order (what the whole-map
    vector index is built from); ``immutable``: a file no one writes, read without locks or
    ``-shm``/``-wal`` files."""
    import hashlib
    import sqlite3

    conn = sqlite3.connect(f"file:{database}" + ("?immutable=1" if immutable else ""), uri=True)
    digest = hashlib.sha256()
    rows = conn.execute(
        "SELECT d.docno, d.id, v.vector FROM docs d LEFT JOIN vectors v ON v.docno = d.docno "
        "WHERE d.deleted = 0 ORDER BY d.docno"
    )
    while chunk := rows.fetchmany(10_000):
        for docno, doc_id, vector in chunk:
            digest.update(f"{docno}\x1f{doc_id}\x1f".encode())
            digest.update(vector or b"")
    conn.close()
    return digest.hexdigest()


def reuse_vector_index(backend: SearchBackend, source: Path) -> dict[str, Any]:
    """Give a freshly built embedded index the whole-map vector index of ``source`` (an index of
    the same documents without map text, e.g. ``--baseline-dir``) when both hold the same docnos,
    ids and vectors: the product would build the same index from the same vectors (map text
    plays no part in it), so its ~10 CPU-minutes at 562,842 maps are not spent twice."""
    import sqlite3

    from indexer.backends.embedded_schema import get_meta, set_meta
    from indexer.backends.vector_index import META_KEY, index_path

    database = Path(backend.path)  # type: ignore[attr-defined]
    source_db = source / "index.sqlite"
    started = time.perf_counter()
    ours, theirs = collection_digest(database), collection_digest(source_db, immutable=True)
    if ours != theirs:
        raise SystemExit(f"{source_db} holds other documents or vectors: cannot reuse its index")
    conn = sqlite3.connect(f"file:{source_db}?immutable=1", uri=True)
    described = get_meta(conn, META_KEY)
    conn.close()
    assert described is not None, f"{source_db} has no vector index"
    token = json.loads(described)["token"]
    shutil.copyfile(index_path(source_db, token), index_path(database, token))
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    set_meta(writer, META_KEY, described)
    writer.execute("COMMIT")
    writer.close()
    return {
        "vector_index_from": str(source),
        "collection_sha256": ours,
        "reuse_s": round(time.perf_counter() - started, 1),
    }


def settle(backend: SearchBackend, force_merge: bool = True) -> float:
    """Bring an index to its serving state before it is timed (embedded: snapshot and vector
    index built; Elasticsearch: bulk-load settings restored, background merges done and, with
    ``force_merge``, merged to one segment); returns seconds."""
    from webapi.search.params import SearchParams

    started = time.perf_counter()
    client = getattr(backend, "client", None)
    if client is not None:
        from indexer.backends import es_lifecycle

        target = backend.target  # type: ignore[attr-defined]
        for index in client.indices.get_alias(name=target):
            es_lifecycle.restore_settings(client, index)  # a no-op once restored
        while client.indices.stats(index=target, metric="merge")["_all"]["primaries"]["merges"][
            "current"
        ]:
            time.sleep(1)
        if force_merge:
            client.indices.forcemerge(index=target, max_num_segments=1, wait_for_completion=True)
        client.indices.refresh(index=target)
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
    parser.add_argument(
        "--phase",
        choices=["build", "settle", "measure", "all"],
        default="all",
        help="settle: bring a built index to its serving state (a build that was stopped after "
        "its last write)",
    )
    parser.add_argument("--variant", choices=["with", "without", "both"], default="both")
    parser.add_argument(
        "--baseline-dir",
        type=Path,
        help="embedded index of the same collection without map text (bench/embedded_search.py "
        "at --size): searched as 'without', never written",
    )
    parser.add_argument(
        "--vector-index-from",
        type=Path,
        help="embedded index of the same documents and vectors (checked by digest) whose vector "
        "index the new 'with' index reuses instead of building its own",
    )
    parser.add_argument(
        "--baseline-es-prefix",
        help="Elasticsearch prefix of the same collection without map text (bench/es_search.py's "
        "'bench' at --size): searched as 'without', never written (force-merged to one segment)",
    )
    parser.add_argument(
        "--no-force-merge",
        action="store_true",
        help="Elasticsearch: time the segments the bulk load's own merges leave",
    )
    args = parser.parse_args()
    phase: Phase = args.phase
    words = vocabulary()
    variants = [v for v in (False, True) if args.variant in ("both", "with" if v else "without")]
    for map_text in variants:
        fresh = phase in ("build", "all")
        for name, backend, baseline in open_backends(args, map_text, fresh=fresh):
            row: dict[str, Any] = {"backend": name, "map_text": map_text, "documents": args.size}
            if phase in ("build", "all", "settle") and not baseline:
                if phase != "settle":
                    row.update(build(backend, args.size, map_text, words))
                if name == "embedded" and args.vector_index_from is not None:
                    row.update(reuse_vector_index(backend, args.vector_index_from))
                row["settle_s"] = round(settle(backend, not args.no_force_merge), 1)
            if baseline:
                row["baseline"] = True
                row["settle_s"] = round(settle(backend, not args.no_force_merge), 1)
            if phase in ("measure", "all"):
                row.update(index_shape(backend))
                row.update(measure(backend, args.queries, words))
            print(json.dumps(row), flush=True)
            backend.close()


if __name__ == "__main__":
    main()
