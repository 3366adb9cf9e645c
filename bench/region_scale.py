"""Region search at scale (docs/regions.md "Scale", docs/benchmarks.md "Regions"): synthetic
clustered whole-map and region vectors (17.6 regions per map, the `2,4@0.25` grid's average on
large sheets) written through the real backends; then semantic (embedded) and hybrid
(Elasticsearch, nested kNN) latency with and without regions, recall@10 of maps against the exact
combination, index size, build rate and memory.

Phases, so the build can run at low priority outside the bench lock and the timing inside it:
``--phase build`` writes the embedded index under ``--dir`` and builds its whole-map and region
indexes, then computes the exact answers by one streaming pass over the stored regions;
(``--resume``: of a file already written); ``--phase search`` times queries on it in a fresh
process (``--cold``: also from an evicted page cache); ``--phase reads`` times the candidates'
stored-region reads and the filter bitmap on a written file; ``--phase es`` loads Elasticsearch
(``--es-url``, ``--es-maps``, ``--es-region-options``) and times hybrid queries.
Region vectors are generated a batch at a time (seeded per batch): no float32 matrix of every
region is ever held, by the bench or by the backend."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import resource
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.backends import embedded_regions, region_index  # noqa: E402
from indexer.backends.base import BackendQuery, Filters, SearchBackend  # noqa: E402
from indexer.records import IndexDocument, MapRecord  # noqa: E402
from indexer.region_set import RegionSet  # noqa: E402

PAPER_SIZE = 562_842
CLUSTERS = 500
MODEL_ID = "bench-synthetic-regions"
BATCH = 1000
GRID = "2,4@0.25"
WEIGHT = 0.4  # the default blend
PAGE = 20  # hits on a result page
SEARCH_MS: list[float] = []  # the backend search alone, of the last ``paged`` call
YEARS_10_PERCENT = (1500, 1545)  # year_start = 1500 + n % 460: ≈ 10% of the maps


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def regions_of(n: int) -> int:
    """17 or 18 regions: 17.6 per map on average."""
    return 18 if n % 5 < 3 else 17


def centres(dims: int) -> np.ndarray:
    return unit(np.random.default_rng(0).standard_normal((CLUSTERS, dims)))


def batch_vectors(
    number: int, size: int, dims: int, hubs: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Whole-map vectors of batch ``number`` (near one of the cluster centres) and each map's
    region vectors (the map's vector pulled towards another centre: a detail of the sheet)."""
    rng = np.random.default_rng((1, number))
    start = number * BATCH
    whole = unit(hubs[rng.integers(0, CLUSTERS, size)] + 0.04 * rng.standard_normal((size, dims)))
    regions = []
    for i in range(size):
        count = regions_of(start + i)
        detail = hubs[rng.integers(0, CLUSTERS, count)]
        noise = 0.04 * rng.standard_normal((count, dims))
        regions.append(unit(0.6 * whole[i] + detail + noise))
    return whole, regions


def documents(count: int, dims: int) -> Iterator[list[IndexDocument]]:
    hubs = centres(dims)
    for number in range((count + BATCH - 1) // BATCH):
        start = number * BATCH
        size = min(BATCH, count - start)
        whole, regions = batch_vectors(number, size, dims, hubs)
        batch = []
        for i in range(size):
            n = start + i
            boxes = [(64 * (j % 4), 64 * (j // 4), 512, 512) for j in range(len(regions[i]))]
            batch.append(
                IndexDocument(
                    record=MapRecord(
                        id=f"bench:{n:07d}", source="bench", title=f"Map {n} survey chart",
                        year_start=1500 + n % 460,
                    ),
                    vector=whole[i],
                    model_id=MODEL_ID,
                    regions=RegionSet.build(GRID, boxes, [4] * len(boxes), regions[i]),
                )
            )  # fmt: skip
        yield batch


def queries(count: int, maps: int, dims: int) -> np.ndarray:
    """Half near one region of a random map (a detail), half near a random map's whole vector."""
    rng = np.random.default_rng(99)
    hubs = centres(dims)
    found = []
    for q in range(count):
        n = int(rng.integers(0, maps))
        number, i = divmod(n, BATCH)
        whole, regions = batch_vectors(number, min(BATCH, maps - number * BATCH), dims, hubs)
        target = regions[i][q % len(regions[i])] if q % 2 == 0 else whole[i]
        found.append(target + 0.03 * rng.standard_normal(dims))
    return unit(np.stack(found))


def percentiles(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
    }


def rss_mb() -> dict[str, float]:
    """Peak and current resident memory of this process (current split anonymous / file)."""
    status = Path("/proc/self/status").read_text().splitlines()
    fields = {line.split(":")[0]: line.split()[1] for line in status if line.startswith("Rss")}
    fields.update({line.split(":")[0]: line.split()[1] for line in status if "VmRSS" in line})
    return {
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_mb": round(int(fields.get("VmRSS", 0)) / 1024),
        "rss_anon_mb": round(int(fields.get("RssAnon", 0)) / 1024),
        "rss_file_mb": round(int(fields.get("RssFile", 0)) / 1024),
    }


class PeakMemory:
    """The largest anonymous and file-backed resident memory of this process while the block
    runs (sampled every 0.2 s: /proc has a peak only for the total)."""

    def __init__(self) -> None:
        self.peaks = {"rss_mb": 0.0, "rss_anon_mb": 0.0, "rss_file_mb": 0.0}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            now = rss_mb()
            for key in self.peaks:
                self.peaks[key] = max(self.peaks[key], now[key])
            if self._done.wait(0.2):
                return

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


# ---- embedded ---------------------------------------------------------------------------------


def planner(args: argparse.Namespace) -> Any:
    """The shipped planner limits, or (``--min-rows``) indexes from a smaller collection."""
    from indexer.backends.vector_index import PlannerLimits

    return PlannerLimits(min_rows=args.min_rows) if args.min_rows else PlannerLimits()


def exact_truth(
    path: Path, vectors: np.ndarray, k: int, filters: dict[str, tuple[int, int] | None]
) -> dict[str, list[list[str]]]:
    """The exact blend top-k ids per query under each named year filter (None: all maps):
    whole-map cosines from the vectors table, best region cosines by one streaming pass over the
    stored regions (a chunk of float32 at a time), shared by every filter."""
    import sqlite3

    conn = sqlite3.connect(path)
    size = int(conn.execute("SELECT max(docno) FROM docs").fetchone()[0]) + 1
    ids = [""] * size
    years = np.full(size, -1, np.int64)
    for docno, doc_id, year in conn.execute("SELECT docno, id, year_start FROM docs"):
        ids[docno], years[docno] = doc_id, year
    whole = np.full((size, len(vectors)), -np.inf, np.float32)
    cursor = conn.execute("SELECT docno, vector FROM vectors")
    while rows := cursor.fetchmany(20_000):
        docnos = np.array([r[0] for r in rows], np.int64)
        matrix = np.frombuffer(b"".join(r[1] for r in rows), "<f4").reshape(len(rows), -1)
        whole[docnos] = matrix @ vectors.T
    best = np.full((size, len(vectors)), -np.inf, np.float32)
    cursor = conn.execute("SELECT docno, count, vectors FROM regions WHERE count > 0")
    while rows := cursor.fetchmany(2_000):
        docnos = np.array([r[0] for r in rows], np.int64)
        counts = np.array([r[1] for r in rows], np.int64)
        matrix = np.frombuffer(b"".join(r[2] for r in rows), "<f4").reshape(int(counts.sum()), -1)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        best[docnos] = np.maximum.reduceat(matrix @ vectors.T, starts, axis=0)
    conn.close()
    combined = np.where(np.isfinite(best), (1 - WEIGHT) * whole + WEIGHT * best, whole)
    found: dict[str, list[list[str]]] = {}
    for name, span in filters.items():
        allowed = np.ones(size, bool) if span is None else (years >= span[0]) & (years <= span[1])
        allowed &= years >= 0  # docnos never used
        top = []
        for q in range(len(vectors)):
            scores = np.where(allowed, combined[:, q], -np.inf)
            order = np.argsort(-scores, kind="stable")[:k]
            top.append([ids[d] for d in order.tolist()])
        found[name] = top
    return found


def build_embedded(args: argparse.Namespace) -> dict[str, Any]:
    from indexer.backends.embedded import EmbeddedBackend

    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "index.sqlite"
    write_s: float | None = None
    if args.resume:  # the maps are written (a build stopped later): build the indexes and truth
        if not path.exists():
            raise SystemExit(f"Error: --resume: {path} does not exist")
    elif path.exists():
        raise SystemExit(f"Error: {path} exists; remove it, --resume, or run --phase search")
    else:
        backend = EmbeddedBackend(path, index_in_background=False, planner=planner(args))
        started = time.perf_counter()
        for batch in documents(args.maps, args.dims):
            backend.write(batch)
            if (batch_number := int(batch[-1].record.id.split(":")[1]) + 1) % 50_000 == 0:
                print(f"  wrote {batch_number:,} maps", file=sys.stderr, flush=True)
        write_s = time.perf_counter() - started
        print(f"  write done in {write_s:.1f} s", file=sys.stderr, flush=True)
        backend.close()
    reader = EmbeddedBackend(path, index_in_background=False, planner=planner(args))
    started = time.perf_counter()
    columns = reader._sync()  # loads the whole-map columns (and writes their snapshot)
    open_s = time.perf_counter() - started
    started = time.perf_counter()
    reader._maintain_index(columns)
    whole_index_s = time.perf_counter() - started
    print(f"  whole-map index in {whole_index_s:.1f} s", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with PeakMemory() as region_build_memory:
        reader._maintain_region_index(columns)
    region_index_s = time.perf_counter() - started
    print(f"  region index in {region_index_s:.1f} s", file=sys.stderr, flush=True)
    assert reader._region_index is not None, "the region index was not built"
    regions = reader._region_index.regions
    memory = rss_mb()
    reader.close()
    vectors = queries(args.queries, args.maps, args.dims)
    np.save(directory / "queries.npy", vectors)
    started = time.perf_counter()
    truth = exact_truth(path, vectors, 10, {"all": None, "years": YEARS_10_PERCENT})
    truth_s = time.perf_counter() - started
    (directory / "truth.json").write_text(json.dumps(truth))
    files = {p.name: p.stat().st_size for p in directory.iterdir() if p.is_file()}
    report = {
        "maps": args.maps,
        "regions": regions,
        "write_s": write_s and round(write_s, 1),
        "write_maps_per_s": write_s and round(args.maps / write_s, 1),
        "write_regions_per_s": write_s and round(regions / write_s),
        "first_open_s": round(open_s, 1),
        "whole_index_build_s": round(whole_index_s, 1),
        "region_index_build_s": round(region_index_s, 1),
        "region_index_regions_per_s": round(regions / region_index_s),
        "exact_truth_s_per_query": round(truth_s / (2 * len(vectors)), 2),
        "files_mb": {name: round(size / 2**20, 1) for name, size in sorted(files.items())},
        "build_memory": memory,
        "region_build_peak_mb": region_build_memory.peaks,
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }
    (directory / "build.json").write_text(json.dumps(report, indent=1))
    return report


def recall(found: list[list[str]], truth: list[list[str]]) -> float:
    hits = [
        len(set(f[:10]) & set(t[:10])) / max(1, len(t[:10]))
        for f, t in zip(found, truth, strict=True)
    ]
    return round(float(np.mean(hits)), 4)


def timed_searches(
    backend: SearchBackend, vectors: np.ndarray, **fields: Any
) -> tuple[dict[str, float], list[list[str]]]:
    times, found = [], []
    for vector in vectors:
        started = time.perf_counter()
        result = backend.search(BackendQuery(vector=vector, num_candidates=200, **fields))
        times.append((time.perf_counter() - started) * 1000)
        found.append([hit.id for hit in result.semantic[:10]])
    return percentiles(times), found


def rebuild_region_index(args: argparse.Namespace) -> dict[str, Any]:
    """Build the region index again with ``--region-lists`` lists (e.g. the list length the
    paper's size would have, so a query scans as many codes as it would there)."""
    from indexer.backends.embedded import EmbeddedBackend

    if args.region_lists:
        region_index.list_count = lambda rows: args.region_lists  # type: ignore[assignment]
    backend = EmbeddedBackend(
        Path(args.dir) / "index.sqlite", planner=planner(args), index_in_background=False
    )
    columns = backend._sync()
    assert columns.vectors is not None
    started = time.perf_counter()
    with backend._conn:  # forget the published index, so a new one is built
        backend._conn.execute("DELETE FROM meta WHERE key = ?", (region_index.META_KEY,))
    backend._refresh_region_index(columns, backend.path, int(columns.vectors.shape[1]))
    seconds = time.perf_counter() - started
    built = backend._region_index
    assert built is not None
    backend.close()
    return {
        "region_lists": int(built.index.nlist),
        "regions": built.regions,
        "region_index_build_s": round(seconds, 1),
        "region_index_regions_per_s": round(built.regions / seconds),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


class StageTimes:
    """Wall time per query spent proposing maps from the region index and reading and scoring the
    candidates' stored regions (the two region costs that grow with the collection); bench-only
    timing wrappers around the backend's own code."""

    def __init__(self) -> None:
        from indexer.backends import embedded

        self.propose: list[float] = []
        self.stored: list[float] = []
        self.candidates: list[int] = []
        stage = self
        propose = region_index.RegionIndex.candidate_maps
        stored_class = embedded.StoredScores

        def timed_propose(self: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return propose(self, *args, **kwargs)
            finally:
                stage.propose.append((time.perf_counter() - started) * 1000)

        class TimedStoredScores(stored_class):  # type: ignore[misc, valid-type]
            def __init__(self, conn: Any, docnos: Any, vector: Any, reader: Any = None) -> None:
                started = time.perf_counter()
                super().__init__(conn, docnos, vector, reader)
                stage.stored.append((time.perf_counter() - started) * 1000)
                stage.candidates.append(len(docnos))

        region_index.RegionIndex.candidate_maps = timed_propose  # type: ignore[method-assign]
        embedded.StoredScores = TimedStoredScores  # type: ignore[misc, assignment]

    def take(self) -> dict[str, float]:
        """Median stage times since the last take."""
        found = {
            "propose_p50_ms": round(statistics.median(self.propose), 1) if self.propose else 0.0,
            "stored_read_p50_ms": round(statistics.median(self.stored), 1) if self.stored else 0.0,
            "candidates_p50": int(statistics.median(self.candidates)) if self.candidates else 0,
        }
        self.propose, self.stored, self.candidates = [], [], []
        return found


def evict(directory: Path, only: str | None = None) -> None:
    """Drop this collection's files (only these; or only the one named ``only``) from the page
    cache: a cold start. A build's temporary files are left alone."""
    for path in directory.iterdir():
        if path.is_file() and not path.name.endswith(".tmp") and only in (None, path.name):
            with path.open("rb") as handle:
                os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def opened(directory: Path, args: argparse.Namespace, vector: np.ndarray) -> tuple[Any, float]:
    """A backend that has answered one query with both indexes mapped, and the seconds it took."""
    from indexer.backends.embedded import EmbeddedBackend

    started = time.perf_counter()
    backend = EmbeddedBackend(directory / "index.sqlite", planner=planner(args))
    backend.search(BackendQuery(vector=vector, num_candidates=200))
    for thread in (backend._index_thread, backend._region_thread):
        if thread is not None:
            thread.join()
    return backend, time.perf_counter() - started


def search_embedded(args: argparse.Namespace) -> dict[str, Any]:
    directory = Path(args.dir)
    vectors = np.load(directory / "queries.npy")
    truth = json.loads((directory / "truth.json").read_text())
    stages = StageTimes()
    opens: dict[str, float] = {}
    if args.cold:
        evict(directory)
        backend, seconds = opened(directory, args, vectors[0])
        opens["cold_s"] = round(seconds, 2)
        backend.close()
    backend, seconds = opened(directory, args, vectors[0])
    opens["warm_s"] = round(seconds, 2)
    built = backend._region_index
    assert built is not None, "no region index: run --phase build first"
    backend.search(BackendQuery(vector=vectors[0], num_candidates=200))
    assert backend.last_semantic_path == "index"
    stages.take()
    years = Filters(year_from=YEARS_10_PERCENT[0], year_to=YEARS_10_PERCENT[1])
    sweep: dict[str, Any] = {}
    for nprobe, threads in itertools.product(args.nprobe, args.read_threads):
        region_index.NPROBE_MIN = nprobe
        embedded_regions.READ_THREADS = threads
        runs: dict[str, Any] = {}
        for state in ("cold_file", "warm") if args.cold else ("warm",):
            if state == "cold_file":
                evict(directory)
            with_regions, found = timed_searches(backend, vectors)
            with_stages = stages.take()
            if state == "cold_file":
                evict(directory)
            filtered, found_years = timed_searches(backend, vectors, filters=years)
            runs[state] = {
                "semantic_with_regions": {
                    **with_regions,
                    "recall_at_10": recall(found, truth["all"]),
                    **with_stages,
                },
                "semantic_with_regions_10pct_filter": {
                    **filtered,
                    "recall_at_10": recall(found_years, truth["years"]),
                    **stages.take(),
                },
            }
        sweep[f"nprobe_{nprobe}_read_threads_{threads}"] = runs
    whole_only, _ = timed_searches(backend, vectors, regions=False)
    memory = rss_mb()
    exact: dict[str, Any] = {}
    if args.exact_queries:
        # the exact baseline: the backend without its region index streams the stored regions
        backend._maintain_region_index = lambda columns: None  # type: ignore[method-assign]
        backend._region_index, backend._stale = None, True
        times, found_exact = timed_searches(backend, vectors[: args.exact_queries])
        assert backend.last_semantic_path == "exact"
        exact = {
            **times,
            "queries": args.exact_queries,
            "recall_at_10": recall(found_exact, truth["all"][: args.exact_queries]),
        }
    backend.close()
    return {
        "open_and_map_indexes": opens,
        "region_lists": int(built.index.nlist),
        "regions_per_list": round(built.regions / int(built.index.nlist)),
        **sweep,
        "semantic_whole_only": whole_only,
        "memory_after_queries": memory,
        "semantic_with_regions_exact_streaming": exact,
        "queries": len(vectors),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


def region_reads(args: argparse.Namespace) -> dict[str, Any]:
    """The two region costs that grow with the collection, measured on a written file without
    needing its region index: reading ``--candidates`` random maps' stored regions (what one
    query rescores) on 1 and on ``--read-threads`` connections, from an evicted page cache and
    again warm; and the filter bitmap over every region row (per-row owner lookup, as before,
    against one flag per map's run of rows)."""
    import sqlite3

    path = Path(args.dir) / "index.sqlite"
    conn = sqlite3.connect(path, check_same_thread=False)
    size = int(conn.execute("SELECT max(docno) FROM docs").fetchone()[0]) + 1
    rng = np.random.default_rng(17)
    vector = unit(rng.standard_normal(args.dims))
    configs = sorted({1, *args.read_threads})
    readers = {t: embedded_regions.StoredRegionReader(path, t) if t > 1 else None for t in configs}
    cold: dict[int, list[float]] = {t: [] for t in configs}
    warm: dict[int, list[float]] = {t: [] for t in configs}
    for _ in range(args.read_sets):  # the same maps for every thread count, each from cold
        docnos = np.sort(rng.choice(np.arange(1, size), args.candidates, replace=False)).tolist()
        for threads in configs:
            evict(Path(args.dir), "index.sqlite")
            for times in (cold[threads], warm[threads]):
                started = time.perf_counter()
                embedded_regions.StoredScores(conn, docnos, vector, readers[threads])
                times.append((time.perf_counter() - started) * 1000)
    for reader in readers.values():
        if reader is not None:
            reader.close()
    reads = {
        f"read_threads_{t}": {
            "cold_p50_ms": round(statistics.median(cold[t]), 1),
            "cold_p90_ms": percentiles(cold[t])["p90_ms"],
            "warm_p50_ms": round(statistics.median(warm[t]), 1),
        }
        for t in configs
    }
    # the filter bitmap: the index's owner array as the build lays it out (one run per map)
    counts = np.array([regions_of(n) for n in range(size)], np.int64)
    owner = np.repeat(np.arange(size, dtype=np.int32), counts)
    built = region_index.RegionIndex(token="", seq=0, index=None, owner=owner, maps=size)
    built.passing_rows(np.ones(size, bool))  # the runs, found once per index
    per_row, per_run = [], []
    for _ in range(args.read_sets):
        allowed = rng.random(size) < 0.1
        started = time.perf_counter()
        passing = np.zeros(len(owner), bool)
        inside = owner < len(allowed)
        passing[inside] = allowed[owner[inside]]
        np.packbits(passing, bitorder="little")
        per_row.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        np.packbits(built.passing_rows(allowed), bitorder="little")
        per_run.append((time.perf_counter() - started) * 1000)
    conn.close()
    return {
        "maps": size - 1,
        "candidates": args.candidates,
        "sets": args.read_sets,
        "stored_region_reads": reads,
        "filter_bitmap_rows": len(owner),
        "filter_bitmap_per_row_lookup_p50_ms": round(statistics.median(per_row), 1),
        "filter_bitmap_per_map_run_p50_ms": round(statistics.median(per_run), 1),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


# ---- Elasticsearch ----------------------------------------------------------------------------


def es_cpu_ms(client: Any) -> float:
    """CPU time the Elasticsearch node(s) have used so far, in ms (load-independent cost)."""
    nodes = client.nodes.stats(metric="process")["nodes"].values()
    return float(sum(node["process"]["cpu"]["total_in_millis"] for node in nodes))


def es_load(args: argparse.Namespace, client: Any, prefix: str) -> dict[str, Any]:
    """Create a bulk-load index (refresh off, no replicas, async translog), write maps through
    the product writer until ``--es-maps`` or ``--es-seconds``, restore the settings and merge."""
    from indexer.backends import es_lifecycle
    from indexer.backends.elasticsearch import ElasticsearchBackend

    definition = es_lifecycle.index_definition
    if args.es_region_options:  # a variant of the shipped mapping, for the options study

        def variant(version: int, dims: int | None, english: bool) -> dict[str, Any]:
            chosen = definition(version, dims, english)
            vector = chosen["mappings"]["properties"]["regions"]["properties"]["vector"]
            vector["index_options"] = json.loads(args.es_region_options)
            return chosen

        es_lifecycle.index_definition = variant  # type: ignore[assignment]
    try:
        index = es_lifecycle.create_index(client, prefix, dims=args.dims, bulk_load=True)
    finally:
        es_lifecycle.index_definition = definition  # type: ignore[assignment]
    es_lifecycle.point_alias(client, prefix, index, None)
    mapping = client.indices.get_mapping(index=index)[index]["mappings"]
    options = mapping["properties"]["regions"]["properties"]["vector"].get("index_options")
    backend = ElasticsearchBackend(client, prefix)
    cpu_before, client_before = es_cpu_ms(client), time.process_time()
    started, written = time.perf_counter(), 0
    deadline = started + args.es_seconds
    for batch in documents(args.es_maps, args.dims):
        report = backend.write(batch)
        assert report.failed == 0, report.errors
        written += report.written
        if time.perf_counter() > deadline:
            break
    write_s = time.perf_counter() - started
    es_cpu = es_cpu_ms(client) - cpu_before
    client_cpu = (time.process_time() - client_before) * 1000
    regions = sum(regions_of(n) for n in range(written))
    started = time.perf_counter()
    es_lifecycle.restore_settings(client, index)
    refresh_s = time.perf_counter() - started
    started = time.perf_counter()
    cpu_before = es_cpu_ms(client)
    if not args.es_no_merge:
        client.options(request_timeout=7200).indices.forcemerge(index=index, max_num_segments=1)
    merge_s = time.perf_counter() - started
    merge_cpu = es_cpu_ms(client) - cpu_before
    stats = client.indices.stats(index=index)["_all"]["primaries"]
    return {
        "index": index,
        "region_vector_options": options,
        "maps": written,
        "regions": regions,
        "reached_paper_size": written >= PAPER_SIZE,
        "write_s": round(write_s, 1),
        "docs_per_s": round(written / write_s, 1),
        "nested_vectors_per_s": round(regions / write_s),
        "es_cpu_ms_per_map": round(es_cpu / max(written, 1), 2),
        "client_cpu_ms_per_map": round(client_cpu / max(written, 1), 2),
        "refresh_s": round(refresh_s, 1),
        "forcemerge_s": round(merge_s, 1),
        "forcemerge_es_cpu_s": round(merge_cpu / 1000, 1),
        "docs_per_s_incl_merge": round(written / (write_s + refresh_s + merge_s), 1),
        "segments": stats["segments"]["count"],
        "store_mb": round(stats["store"]["size_in_bytes"] / 2**20, 1),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


def es_queries_timed(args: argparse.Namespace, client: Any, prefix: str) -> dict[str, Any]:
    """Hybrid queries on the loaded index, interleaved query by query: with regions (the
    product's path: lists without inner hits, then the shown page's regions), the same with
    inner hits in the region list (the path before, ``inner_hits_search``) and ``regions=false``;
    and how often the page's best region agrees between the two region paths."""
    from indexer.backends.elasticsearch import ElasticsearchBackend

    backend = ElasticsearchBackend(client, prefix)
    maps = int(client.count(index=es_alias(prefix))["count"])
    vectors = queries(args.queries + 1, maps, args.dims)
    variants = {
        "hybrid_with_regions": lambda q: paged(backend, q),
        "hybrid_with_regions_inner_hits_before": lambda q: paged(
            backend, q, search=inner_hits_search
        ),
        "hybrid_whole_only": lambda q: paged(backend, dataclasses.replace(q, regions=False)),
    }
    for vector in vectors[:1]:  # warm caches once per path
        for run in variants.values():
            run(BackendQuery(text="map", vector=vector, num_candidates=args.es_window))
    times: dict[str, list[float]] = {name: [] for name in variants}
    search_times: dict[str, list[float]] = {name: [] for name in variants}
    pages: dict[str, list[list[tuple[str, Any, Any]]]] = {name: [] for name in variants}
    for number, vector in enumerate(vectors[1:]):
        query = BackendQuery(text="survey", vector=vector, num_candidates=args.es_window)
        names = list(variants)
        names = names[number % len(names) :] + names[: number % len(names)]
        for name in names:
            started = time.perf_counter()
            page = variants[name](query)
            times[name].append((time.perf_counter() - started) * 1000)
            search_times[name].append(SEARCH_MS[-1])
            pages[name].append(page)
    agree = same = 0
    score_gap = 0.0  # the inner hits' (quantised) best-region score against the exact one
    for now, before in zip(
        pages["hybrid_with_regions"], pages["hybrid_with_regions_inner_hits_before"], strict=True
    ):
        same += [hit[0] for hit in now] == [hit[0] for hit in before]
        agree += sum(a[:2] == b[:2] for a, b in zip(now, before, strict=False))
        exact = {hit[0]: hit[2] for hit in now if hit[2] is not None}
        gaps = [abs(exact[i] - s) for i, _, s in before if s is not None and i in exact]
        score_gap = max([score_gap, *gaps])
    shown = sum(len(p) for p in pages["hybrid_with_regions"])
    return {
        "maps": maps,
        "window": args.es_window,
        "queries": args.queries,
        "page_of_20_incl_fetch": {name: percentiles(values) for name, values in times.items()},
        "backend_search_only": {name: percentiles(v) for name, v in search_times.items()},
        "same_page_ids": f"{same}/{args.queries}",
        "same_best_box": f"{agree}/{shown}",
        "before_best_score_max_error": round(score_gap, 4),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


def es_alias(prefix: str) -> str:
    from indexer.backends import es_lifecycle

    return es_lifecycle.alias_name(prefix)


def paged(backend: Any, query: BackendQuery, search: Any = None) -> list[tuple[str, Any, Any]]:
    """What the service does for one query's first page: the lists, the first ``PAGE`` hits of
    their RRF fusion, the shown maps' documents, and each semantic hit's best regions (scored
    from those documents when the lists left them out); returns (id, best box, its score)."""
    from indexer.backends.region_matches import with_regions
    from webapi.search.fusion import fuse_rrf

    started = time.perf_counter()
    result = (search or type(backend).search)(backend, query)
    SEARCH_MS.append((time.perf_counter() - started) * 1000)
    page = fuse_rrf(result.keyword, result.semantic, 60)[:PAGE]
    documents = backend.fetch([hit.id for hit in page])
    hits = [hit.semantic_hit for hit in page if hit.semantic_hit is not None]
    hits = with_regions(result, hits, documents)
    return [
        (hit.id, hit.regions[0].box, hit.regions[0].score) if hit.regions else (hit.id, None, None)
        for hit in hits
    ]


INNER_HIT_FIELDS = ("x", "y", "w", "h", "level")


def inner_hit_regions(hit: dict[str, Any], path: str) -> tuple[Any, ...]:
    """A region-list hit's inner hits as RegionMatches, best first (the parser before)."""
    from indexer.backends.base import RegionMatch
    from indexer.backends.es_documents import cosine_from_score

    matches = []
    for entry in hit.get("inner_hits", {}).get(path, {}).get("hits", {}).get("hits", []):
        values = [int(entry["fields"][f"{path}.{name}"][0]) for name in INNER_HIT_FIELDS]
        offset = int(entry.get("_nested", {}).get("offset", 0))
        score = cosine_from_score(float(entry["_score"]))
        matches.append((RegionMatch(tuple(values[:4]), values[4], score), offset))  # type: ignore[arg-type]
    matches.sort(key=lambda pair: (-pair[0].score, pair[0].level, pair[1]))
    return tuple(match for match, _ in matches)


def inner_hits_search(backend: Any, query: BackendQuery) -> Any:
    """The region-aware search as it was before boxes were scored for the shown page only: the
    region list carries every map's best 3 regions as inner hits (doc-valued boxes)."""
    from indexer.backends import es_queries
    from indexer.backends.base import BackendResult
    from indexer.backends.es_documents import parse_keyword, parse_semantic, to_list_hit
    from indexer.backends.es_regions import combine_lists, parse_region_list

    fields = backend.fields()
    path = fields.region_vector.rsplit(".", 1)[0]
    plan = es_queries.region_search_plan(query, fields)
    for name, body in plan:
        if name == "regions":
            body["knn"]["inner_hits"] = {
                "size": 3,
                "_source": False,
                "docvalue_fields": [f"{path}.{n}" for n in INNER_HIT_FIELDS],
            }
    responses = backend._msearch([body for _, body in plan])
    lists = {name: r["hits"]["hits"] for (name, _), r in zip(plan, responses, strict=True)}
    result = BackendResult()
    if "keyword" in lists:
        result.keyword = parse_keyword(lists["keyword"], fields)
    by_id = {
        to_list_hit(hit, fields, 0.0).id: inner_hit_regions(hit, path) for hit in lists["regions"]
    }
    regions = parse_region_list(lists["regions"], fields)
    combined = combine_lists(parse_semantic(lists["whole"], fields), regions, query)
    result.semantic = [dataclasses.replace(hit, regions=by_id.get(hit.id, ())) for hit in combined]
    backend._count_named(result, query, fields)
    return result


def elasticsearch(args: argparse.Namespace) -> dict[str, Any]:
    from indexer.backends.es_client import make_client

    client = make_client(args.es_url, 600.0)
    prefix = args.es_prefix or f"regionscale{os.getpid()}"
    report: dict[str, Any] = {"prefix": prefix}
    try:
        if not args.es_reuse:
            report["load"] = es_load(args, client, prefix)
        if not args.es_load_only:
            report["search"] = es_queries_timed(args, client, prefix)
    finally:
        if not (args.es_keep or args.es_load_only):
            for name in client.indices.get(index=f"{prefix}-*"):
                client.indices.delete(index=name)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--phase", choices=["build", "search", "region-index", "reads", "es"], required=True
    )
    parser.add_argument("--candidates", type=int, default=363, help="reads phase: maps a query")
    parser.add_argument("--read-sets", type=int, default=10, help="reads phase: repetitions")
    parser.add_argument(
        "--nprobe", type=int, nargs="+", default=[region_index.NPROBE_MIN], help="sweep these"
    )
    parser.add_argument("--region-lists", type=int, help="region-index phase: this many lists")
    parser.add_argument("--exact-queries", type=int, default=3, help="search phase: exact baseline")
    parser.add_argument(
        "--read-threads",
        type=int,
        nargs="+",
        default=[embedded_regions.READ_THREADS],
        help="search phase: sweep these stored-region read threads",
    )
    parser.add_argument(
        "--cold", action="store_true", help="search phase: also from an evicted page cache"
    )
    parser.add_argument("--maps", type=int, default=10_000)
    parser.add_argument("--dims", type=int, default=512)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--dir", default="/tmp/region-scale")
    parser.add_argument("--min-rows", type=int, help="index from this many maps (tests)")
    parser.add_argument(
        "--resume", action="store_true", help="build phase: the maps are written, build the rest"
    )
    parser.add_argument("--es-url")
    parser.add_argument("--es-maps", type=int, default=PAPER_SIZE)
    parser.add_argument(
        "--es-seconds", type=float, default=480.0, help="stop loading after this long"
    )
    parser.add_argument(
        "--es-region-options", help='regions.vector index_options JSON, e.g. {"type":"bbq_flat"}'
    )
    parser.add_argument("--es-prefix", help="index prefix (default: one per process)")
    parser.add_argument("--es-load-only", action="store_true", help="load, keep, no queries")
    parser.add_argument("--es-reuse", action="store_true", help="query the --es-prefix index")
    parser.add_argument("--es-keep", action="store_true", help="keep the index afterwards")
    parser.add_argument("--es-no-merge", action="store_true", help="skip the force-merge")
    parser.add_argument("--es-window", type=int, default=200, help="kNN depth k (fusion window)")
    args = parser.parse_args()
    if args.phase == "build":
        report = build_embedded(args)
    elif args.phase == "search":
        report = search_embedded(args)
    elif args.phase == "reads":
        report = region_reads(args)
    elif args.phase == "region-index":
        report = rebuild_region_index(args)
    else:
        if not args.es_url:
            raise SystemExit("Error: --phase es needs --es-url")
        report = elasticsearch(args)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
