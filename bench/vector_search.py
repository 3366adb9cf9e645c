"""Side-by-side vector search bench of the embedded backend (issue 13) on an index built by
``bench/embedded_search.py --build-only``: open time (new processes), vector-index build rate, and
per query path p50/p95 with recall@k against the exact float32 kernel in the same run: the exact
kernel, the paper's numpy baseline, the planner (vector index) unfiltered, with 10% and 1% filters,
the quantised scan (3% filter, deep window), and semantic/hybrid through ``SearchService``; RSS of
the serving process. ``run_embedded`` returns every figure, for a combined bench in one process.
Usage: ``python bench/vector_search.py --dir DIR [--queries Q] [--json-out FILE]``."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embedded_search import (  # noqa: E402  (the shared corpus generator)
    VectorTable,
    cluster_centres,
    clustered_vectors,
    query_texts,
    sample_records,
)

from indexer.backends.base import BackendQuery, Filters  # noqa: E402
from indexer.backends.embedded import EmbeddedBackend  # noqa: E402
from indexer.backends.vector_index import PlannerLimits  # noqa: E402

OPEN_SCRIPT = """
import json, sys, time
from pathlib import Path
started = time.perf_counter()
import numpy as np
from indexer.backends.base import BackendQuery
from indexer.backends.embedded import EmbeddedBackend
backend = EmbeddedBackend(Path(sys.argv[1]), index_in_background=False)
backend.refresh()  # every column and vector ready (mapped from the snapshot when there is one)
opened = time.perf_counter() - started
mapped = backend._columns.snapshot_token is not None
rng = np.random.default_rng(0)
dims = backend._columns.vectors.shape[1]
queries = rng.standard_normal((20, dims)).astype(np.float32)
backend.search(BackendQuery(vector=queries[0], num_candidates=10))  # loads or builds the index
with_index = time.perf_counter() - started
def memory(tag):
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            found[key + tag] = int(value.split()[0]) // 1024
    return found
for query in queries:  # first pages (window 200) through the index
    backend.search(BackendQuery(vector=query, num_candidates=200))
memory_index = memory("_mib_index_only")
for query in queries[:5]:  # deep windows: the quantised scan (float32 pages of candidates only)
    backend.search(BackendQuery(vector=query, num_candidates=1000))
memory = {**memory_index, **memory("_mib_after_deep")}
print(json.dumps({"open_s": round(opened, 2), "mapped": mapped,
                  "with_index_s": round(with_index, 2), **memory}))
"""


def percentiles(samples: Sequence[float]) -> dict[str, object]:
    """p50/p95 in milliseconds."""
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 2),
    }


def timed(run: Callable[[int], object], count: int) -> tuple[list[float], list[object]]:
    """Latencies and results of ``run(i)`` after two warm-up calls."""
    run(0), run(1)
    samples, results = [], []
    for i in range(count):
        started = time.perf_counter()
        results.append(run(i))
        samples.append(time.perf_counter() - started)
    return samples, results


def memory() -> dict[str, int]:
    """This process's resident memory, anonymous and file-backed (shared mappings), in MiB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            found[key] = int(value.split()[0]) // 1024
    return found


def year_range(backend: EmbeddedBackend, fraction: float) -> tuple[int, int]:
    """A year range passing about ``fraction`` of the documents (around the median year)."""
    columns = backend._columns
    years = np.sort(columns.year_start[: columns.size][columns.dated[: columns.size]])
    total = columns.size
    middle = len(years) // 2
    best = (int(years[middle]), int(years[middle]))
    for width in range(0, 400):
        low, high = int(years[middle]) - width // 2, int(years[middle]) + (width + 1) // 2
        count = np.searchsorted(years, high, "right") - np.searchsorted(years, low, "left")
        best = (low, high)
        if count >= fraction * total:
            break
    return best


def open_times(directory: Path, count: int = 3) -> list[dict[str, object]]:
    """Open the index in ``count`` fresh processes (the first may write the snapshot and index)."""
    runs = []
    for _ in range(count):
        child = subprocess.run(
            [sys.executable, "-c", OPEN_SCRIPT, str(directory / "index.sqlite")],
            check=True,
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(f"  open: {runs[-1]}", file=sys.stderr, flush=True)
    return runs


def recall(found: Sequence[list[str]], truth: Sequence[list[str]]) -> float:
    """Mean share of the true ids found."""
    return round(
        float(
            np.mean(
                [len(set(f) & set(t)) / max(1, len(t)) for f, t in zip(found, truth, strict=True)]
            )
        ),
        4,
    )


def quantised_storage(backend: EmbeddedBackend) -> dict[str, object]:
    """Bytes per vector of the index's 8-bit codes (plus their ids) and of the float32 matrix."""
    vector_index = backend._vector_index
    assert vector_index is not None and backend._columns.vectors is not None
    dims = backend._columns.vectors.shape[1]
    per_vector = int(vector_index.index.code_size) + 8  # an int64 id beside each code
    return {
        "code_bytes_per_vector": per_vector,
        "codes_mb_per_million": round(per_vector * 10**6 / 2**20),
        "float32_mb_per_million": round(4 * dims * 10**6 / 2**20),
        "residual_max": round(vector_index.residual_max, 5),
    }


def measure(directory: Path, count: int) -> dict[str, object]:
    """Every path on the same queries in this process; recall against the exact kernel."""
    from indexer.settings import load_settings
    from webapi.search.params import SearchParams
    from webapi.search.service import SearchService

    figures: dict[str, object] = {"memory_start": memory()}
    path = directory / "index.sqlite"
    started = time.perf_counter()
    backend = EmbeddedBackend(path, index_in_background=False)
    backend.refresh()
    figures["open_in_process_s"] = round(time.perf_counter() - started, 2)
    backend.search(BackendQuery(vector=np.ones(512, np.float32) / 512**0.5, num_candidates=10))
    figures["with_index_in_process_s"] = round(time.perf_counter() - started, 2)
    figures["storage"] = quantised_storage(backend)
    exact = EmbeddedBackend(path, planner=PlannerLimits(min_rows=10**12))
    exact.refresh()
    columns = backend._columns
    documents = int(np.count_nonzero(columns.has_vector[: columns.size]))
    figures["documents"] = documents
    queries = clustered_vectors(cluster_centres(), count, seed=99)
    ten = Filters(year_from=(r := year_range(backend, 0.10))[0], year_to=r[1])
    three = Filters(year_from=(r3 := year_range(backend, 0.03))[0], year_to=r3[1])
    one = Filters(year_from=(r1 := year_range(backend, 0.01))[0], year_to=r1[1])
    for name, flt in (("10%", ten), ("3%", three), ("1%", one)):
        passing = backend.search(BackendQuery(filters=flt, browse_limit=1)).total
        figures[f"filter_{name}"] = {
            "years": [flt.year_from, flt.year_to],
            "selectivity": round(passing / documents, 4),
        }

    def semantic(target: EmbeddedBackend, k: int, flt: Filters) -> Callable[[int], object]:
        def run(i: int) -> object:
            result = target.search(BackendQuery(vector=queries[i], num_candidates=k, filters=flt))
            return [hit.id for hit in result.semantic], target.last_semantic_path

        return run

    rows: dict[str, dict[str, object]] = {}
    for label, k, flt in (
        ("unfiltered top-10", 10, Filters()),
        ("10% filter top-10", 10, ten),
        ("3% filter top-10", 10, three),
        ("1% filter top-10", 10, one),
        ("unfiltered top-200", 200, Filters()),
        ("deep window top-1000", 1000, Filters()),
    ):
        exact_times, exact_results = timed(semantic(exact, k, flt), count)
        plan_times, plan_results = timed(semantic(backend, k, flt), count)
        truth = [ids for ids, _ in exact_results]  # type: ignore[misc]
        paths = sorted({p for _, p in plan_results})  # type: ignore[misc]
        rows[f"exact kernel, {label}"] = {
            **percentiles(exact_times),
            "recall": 1.0,
            "path": "float32",
        }
        rows[f"planner, {label}"] = {
            **percentiles(plan_times),
            "recall": recall([ids for ids, _ in plan_results], truth),  # type: ignore[misc]
            "path": "/".join(paths),
        }
        print(
            f"  {label}: {rows[f'exact kernel, {label}']} | {rows[f'planner, {label}']}",
            file=sys.stderr,
            flush=True,
        )
    matrix = columns.vectors[: columns.size]  # type: ignore[index]

    def numpy_baseline(i: int) -> object:
        scores = matrix @ queries[i]
        return np.argpartition(scores, -1000)[-1000:]

    rows["numpy X@q + argpartition(1000) (the paper's method)"] = percentiles(
        timed(numpy_baseline, count)[0]
    )
    records = sample_records()
    texts = query_texts(records, count)
    table = {f"q{i}": queries[i] for i in range(count)} | {
        t: queries[i] for i, t in enumerate(texts)
    }
    settings = load_settings({"data_dir": directory})
    for window in (200, 1000):
        service = SearchService(
            settings.model_copy(update={"num_candidates": window}), backend, VectorTable(table)
        )
        for mode in ("semantic", "hybrid"):

            def run(i: int, mode: str = mode, service: SearchService = service) -> object:
                q = f"q{i}" if mode == "semantic" else texts[i]
                return service.search(SearchParams(q=q, mode=mode))  # type: ignore[arg-type]

            rows[f"service {mode}, window {window}, first page"] = percentiles(timed(run, count)[0])
            label = f"service {mode}, window {window}, first page"
            print(
                f"  {label}: {rows[label]}",
                file=sys.stderr,
                flush=True,
            )
    figures["rows"] = rows
    figures["memory_after"] = memory()
    return figures


def run_embedded(directory: Path, queries: int = 200, open_runs: int = 3) -> dict[str, object]:
    """Every embedded figure on the index in ``directory`` (``index.sqlite``): open time and RSS in
    ``open_runs`` fresh processes, then each path in this process on the same ``queries`` query
    vectors, recall against the exact kernel. ``rows`` maps a label to p50_ms, p95_ms and, for
    semantic lists, recall and the planner's path (see ``embedded_table``)."""
    figures: dict[str, object] = {"open": open_times(directory, open_runs)}
    figures.update(measure(directory, queries))
    return figures


def embedded_table(figures: dict[str, object]) -> str:
    """The side-by-side table of ``run_embedded``'s rows, as Markdown."""
    lines = ["| embedded contender | p50 | p95 | recall | path |", "|---|---|---|---|---|"]
    rows = figures["rows"]
    assert isinstance(rows, dict)
    for label, row in rows.items():
        recall_value = row.get("recall", "")
        lines.append(
            f"| {label} | {row['p50_ms']} ms | {row['p95_ms']} ms | {recall_value} | "
            f"{row.get('path', '')} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Open times in fresh processes, then every path in this one; the table, then every figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    figures = run_embedded(args.dir, args.queries)
    text = json.dumps(figures, indent=2)
    print(embedded_table(figures))
    print(text)
    if args.json_out:
        args.json_out.write_text(text)


if __name__ == "__main__":
    main()
