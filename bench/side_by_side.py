"""Issue 13's side-by-side table in one process: Elasticsearch (a fresh index bulk-loaded through
the product writer by ``es_search.build``) and the embedded backend (``vector_search.run_embedded``
on an index built by ``embedded_search.py --build-only``) on the same generated collection and the
same query vectors, each list's recall measured against the exact float32 kernel in this run.
Usage: ``python bench/side_by_side.py --dir DIR --es-url URL [--queries Q] [--skip-es-build]``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embedded_search import (  # noqa: E402  (the shared corpus generator)
    VectorTable,
    cluster_centres,
    clustered_vectors,
    query_texts,
    sample_records,
)
from es_search import PREFIX, build, index_size_mb  # noqa: E402
from vector_search import (  # noqa: E402
    embedded_table,
    percentiles,
    recall,
    run_embedded,
    timed,
    year_range,
)

from indexer.backends import es_queries  # noqa: E402
from indexer.backends.base import BackendQuery, Filters  # noqa: E402
from indexer.backends.elasticsearch import ElasticsearchBackend  # noqa: E402
from indexer.backends.embedded import EmbeddedBackend  # noqa: E402
from indexer.backends.es_client import make_client  # noqa: E402
from indexer.backends.vector_index import PlannerLimits  # noqa: E402

PRODUCT_OVERSAMPLE = es_queries.RESCORE_OVERSAMPLE
# (label, k, filter name): the semantic lists compared, as in ``vector_search.measure``
LISTS = (
    ("unfiltered top-10", 10, None),
    ("10% filter top-10", 10, "10%"),
    ("1% filter top-10", 10, "1%"),
    ("unfiltered top-200", 200, None),
    ("deep window top-1000", 1000, None),
)


def es_memory_mb(backend: ElasticsearchBackend) -> dict[str, int]:
    """Resident memory of the Elasticsearch process (this machine's node) and its heap in use."""
    nodes = backend.client.nodes.stats(metric="jvm,process")["nodes"].values()
    node = next(iter(nodes))
    found = {"heap_used_mb": node["jvm"]["mem"]["heap_used_in_bytes"] // 2**20}
    pid = backend.client.nodes.info(metric="process")["nodes"]
    process_id = next(iter(pid.values()))["process"]["id"]
    status = Path(f"/proc/{process_id}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            key, _, value = line.partition(":")
            if key == "VmRSS":
                found["rss_mb"] = int(value.split()[0]) // 1024
    return found


def measure_es(
    backend: ElasticsearchBackend,
    exact: EmbeddedBackend,
    directory: Path,
    count: int,
    oversamples: Sequence[float] = (PRODUCT_OVERSAMPLE,),
) -> dict[str, object]:
    """The same lists and service queries as ``vector_search.measure`` on Elasticsearch; recall
    of each list against the embedded exact kernel's list for the same query and filter (per
    ``rescore_vector`` oversample, the product's first)."""
    from indexer.settings import load_settings
    from webapi.search.params import SearchParams
    from webapi.search.service import SearchService

    queries = clustered_vectors(cluster_centres(), count, seed=99)
    filters: dict[str | None, Filters] = {None: Filters()}
    for share, fraction in (("10%", 0.10), ("1%", 0.01)):
        low, high = year_range(exact, fraction)
        filters[share] = Filters(year_from=low, year_to=high)
    rows: dict[str, dict[str, object]] = {}
    # One untimed pass first: straight after a bulk load the node's JIT and caches are cold
    # (the first full run measured hybrid 63 ms there, 54 ms on the same index 8 min later),
    # and a serving node is warm.
    for vector in queries:
        backend.search(BackendQuery(vector=vector, num_candidates=200))
    for label, k, name in LISTS:
        flt = filters[name]

        def run(i: int, target: object, k: int = k, flt: Filters = flt) -> list[str]:
            result = target.search(  # type: ignore[attr-defined]
                BackendQuery(vector=queries[i], num_candidates=k, filters=flt)
            )
            return [hit.id for hit in result.semantic][:k]

        exact_times, truth = timed(lambda i: run(i, exact), count)
        rows[f"exact kernel, {label}"] = {**percentiles(exact_times), "recall": 1.0}
        for oversample in oversamples:
            es_queries.RESCORE_OVERSAMPLE = oversample
            es_times, found = timed(lambda i: run(i, backend), count)
            key = f"elasticsearch, {label}" + (
                "" if oversample == PRODUCT_OVERSAMPLE else f", oversample {oversample:g}"
            )
            rows[key] = {**percentiles(es_times), "recall": recall(found, truth)}  # type: ignore[arg-type]
            print(f"  {key}: {rows[key]}", file=sys.stderr, flush=True)
        es_queries.RESCORE_OVERSAMPLE = PRODUCT_OVERSAMPLE
    texts = query_texts(sample_records(), count)
    table = {f"q{i}": queries[i] for i in range(count)} | {
        t: queries[i] for i, t in enumerate(texts)
    }
    settings = load_settings({"backend": "elasticsearch", "data_dir": directory})
    service = SearchService(settings, backend, VectorTable(table))
    for mode in ("semantic", "hybrid"):

        def search(i: int, mode: str = mode) -> object:
            q = f"q{i}" if mode == "semantic" else texts[i]
            return service.search(SearchParams(q=q, mode=mode))  # type: ignore[arg-type]

        label = f"elasticsearch service {mode}, window {settings.num_candidates}, first page"
        rows[label] = percentiles(timed(search, count)[0])
        print(f"  {label}: {rows[label]}", file=sys.stderr, flush=True)
    return {
        "rows": rows,
        "filters": {name: [f.year_from, f.year_to] for name, f in filters.items() if name},
    }


def row(figures: dict[str, object], label: str) -> dict[str, object]:
    """One row of a figures dict's ``rows``, or an empty one."""
    rows = figures.get("rows")
    return dict(rows.get(label, {})) if isinstance(rows, dict) else {}


def cell(found: dict[str, object]) -> str:
    """p50 (and recall when the row has one) as a table cell."""
    if not found:
        return "–"
    text = f"{found['p50_ms']} ms"
    return f"{text}, recall {found['recall']}" if "recall" in found else text


def side_by_side(es: dict[str, object], embedded: dict[str, object]) -> str:
    """The issue's table: each list beside the exact kernel, then bulk, memory and size."""
    lines = [
        "| | exact float32 kernel | embedded (planner) | Elasticsearch |",
        "|---|---|---|---|",
    ]
    for label, _, _ in LISTS:
        lines.append(
            f"| semantic {label} | {cell(row(embedded, f'exact kernel, {label}'))} | "
            f"{cell(row(embedded, f'planner, {label}'))} | "
            f"{cell(row(es, f'elasticsearch, {label}'))} |"
        )
    es_rows = es.get("rows")
    assert isinstance(es_rows, dict)
    for key, found in es_rows.items():
        if ", oversample " in key:
            lines.append(f"| semantic {key.split(', ', 1)[1]} | – | – | {cell(found)} |")
    for mode in ("semantic", "hybrid"):
        lines.append(
            f"| service {mode}, window 200, first page | – | "
            f"{cell(row(embedded, f'service {mode}, window 200, first page'))} | "
            f"{cell(row(es, f'elasticsearch service {mode}, window 200, first page'))} |"
        )
    built = es.get("build") or {}
    assert isinstance(built, dict)
    if built:
        es_bulk = (
            f"{built['docs_per_second_bulk']:,} docs/s; incl. refresh + merges "
            f"{built['docs_per_second_incl_merge']:,} docs/s (ES CPU "
            f"{built['es_cpu_ms_per_doc']} ms/doc, client {built['client_cpu_ms_per_doc']} ms/doc)"
        )
    else:
        es_bulk = "not rebuilt in this run"
    lines.append(f"| bulk load | – | not rebuilt in this run | {es_bulk} |")
    memory = embedded.get("memory_after") or {}
    assert isinstance(memory, dict)
    es_memory = es.get("memory") or {}
    assert isinstance(es_memory, dict)
    lines.append(
        f"| memory | – | RSS {memory.get('VmRSS', '–')} MiB ({memory.get('RssAnon', '–')} "
        f"anonymous) | ES RSS {es_memory.get('rss_mb', '–')} MiB "
        f"(heap used {es_memory.get('heap_used_mb', '–')} MiB) |"
    )
    lines.append(
        f"| size on disk | – | {embedded.get('disk_mb', '–')} MB | {es.get('index_mb', '–')} MB |"
    )
    return "\n".join(lines)


def disk_mb(directory: Path) -> int:
    """Size of every file of the embedded index (SQLite, snapshot, vector index)."""
    return round(sum(p.stat().st_size for p in directory.iterdir() if p.is_file()) / 2**20)


def main(argv: Sequence[str] | None = None) -> None:
    """Elasticsearch bulk load, its lists and service queries, then the embedded figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True, help="the embedded bench index")
    parser.add_argument("--es-url", required=True)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--open-runs", type=int, default=2)
    parser.add_argument("--skip-es-build", action="store_true", help="reuse the ES bench index")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument(
        "--oversample",
        type=float,
        action="append",
        help="also measure the ES lists with this rescore oversample",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures: dict[str, object] = {"load_start": os.getloadavg(), "queries": args.queries}
    exact = EmbeddedBackend(args.dir / "index.sqlite", planner=PlannerLimits(min_rows=10**12))
    exact.refresh()
    size = exact.info().documents
    backend = ElasticsearchBackend(make_client(args.es_url, timeout=600), PREFIX)
    es: dict[str, object] = {"size": size}
    if not args.skip_es_build:
        es["build"] = build(backend, size)
        print(f"  es build: {es['build']}", file=sys.stderr, flush=True)
    backend.refresh()
    es["documents"] = backend.info().documents
    es["index_mb"] = index_size_mb(backend)
    es["load_before_queries"] = os.getloadavg()
    oversamples = (PRODUCT_OVERSAMPLE, *(args.oversample or ()))
    es.update(measure_es(backend, exact, args.dir, args.queries, oversamples))
    es["memory"] = es_memory_mb(backend)
    del exact
    figures["elasticsearch"] = es
    embedded = run_embedded(args.dir, args.queries, args.open_runs)
    embedded["disk_mb"] = disk_mb(args.dir)
    figures["embedded"] = embedded
    figures["load_end"] = os.getloadavg()
    figures["minutes"] = round((time.perf_counter() - started) / 60, 1)
    table = side_by_side(es, embedded)
    figures["table"] = table
    text = json.dumps(figures, indent=2, default=str)
    if args.json_out:
        args.json_out.write_text(text)
    print(table)
    print()
    print(embedded_table(embedded))
    print(text)


if __name__ == "__main__":
    main()
