"""Benchmark of the embedded backend at the paper's scale (562,842 maps, 512-d vectors): build
speed, size on disk, memory, query latency next to the paper's torch baseline, and query-text
embedding time. Usage: ``python bench/embedded_search.py [--size N] [--queries Q] [--dir DIR]``."""

from __future__ import annotations

import argparse
import gc
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.importers.aardvark import aardvark_records  # noqa: E402
from indexer.importers.report import ImportReport  # noqa: E402
from indexer.records import IndexDocument, MapRecord  # noqa: E402

PAPER_SIZE = 562_842
DIMS = 512
CLUSTERS = 2_000
NOISE = 0.04  # per-dimension noise around a cluster centre: cosine to the centre ≈ 0.74
MODEL_ID = "bench-synthetic-512"
STANFORD = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "aardvark" / "stanford-maps.jsonl.gz"
)
FALLBACK_STANFORD = Path("/work/shared/data/aardvark/stanford-maps.jsonl.gz")
BATCH = 5_000
YEAR_FILTER = (1850, 1950)
FACETS = ("place", "subject")


def cluster_centres(seed: int = 7) -> np.ndarray:
    """The fixed cluster centres (unit vectors)."""
    centres = np.random.default_rng(seed).standard_normal((CLUSTERS, DIMS)).astype(np.float32)
    return centres / np.linalg.norm(centres, axis=1, keepdims=True)


def clustered_vectors(centres: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` unit vectors scattered around random cluster centres."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(centres), count)
    vectors = centres[picks] + rng.standard_normal((count, DIMS)).astype(np.float32) * NOISE
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def sample_records() -> list[MapRecord]:
    """Real Stanford Aardvark records when present, else a small synthetic stand-in."""
    path = STANFORD if STANFORD.exists() else FALLBACK_STANFORD
    if path.exists():
        return list(aardvark_records(path, ImportReport(source=str(path))))
    rng = np.random.default_rng(3)
    words = [
        "county",
        "survey",
        "chart",
        "plan",
        "city",
        "harbor",
        "river",
        "railroad",
        "coast",
        "island",
        "atlas",
        "sheet",
    ]
    places = ["California", "Texas", "France", "China", "Mexico", "Alaska", "Ohio", "Peru"]
    return [
        MapRecord(
            id=f"synthetic:{n}",
            source="synthetic",
            title=" ".join(rng.choice(words, 4)).title(),
            subjects=[f"{rng.choice(words).title()} maps"],
            places=[{"name": str(rng.choice(places))}],  # type: ignore[list-item]
            year_start=int(rng.integers(1600, 2000)),
        )
        for n in range(2000)
    ]


def documents(
    records: list[MapRecord], size: int, centres: np.ndarray
) -> Iterator[tuple[list[IndexDocument], float]]:
    """Batches of documents (records sampled with replacement, new ids), with the seconds spent
    generating their vectors (the stand-in for embedding, excluded from build speed)."""
    rng = np.random.default_rng(11)
    for start in range(0, size, BATCH):
        count = min(BATCH, size - start)
        began = time.perf_counter()
        vectors = clustered_vectors(centres, count, seed=start)
        vector_seconds = time.perf_counter() - began
        picks = rng.integers(0, len(records), count)
        batch = []
        for offset, pick in enumerate(picks.tolist()):
            number = start + offset
            record = records[pick].model_copy(
                update={"id": f"bench:{number}/1", "item_id": f"bench:{number // 3}"}
            )
            batch.append(IndexDocument(record=record, vector=vectors[offset], model_id=MODEL_ID))
        yield batch, vector_seconds


def build(directory: Path, size: int) -> dict[str, float]:
    """Write ``size`` documents into a fresh embedded index; returns timings."""
    from indexer.backends.embedded import EmbeddedBackend

    shutil.rmtree(directory, ignore_errors=True)
    backend = EmbeddedBackend(directory / "index.sqlite")
    records, centres = sample_records(), cluster_centres()
    write_seconds = prepare_seconds = 0.0
    began = time.perf_counter()
    written = 0
    for batch, vector_seconds in documents(records, size, centres):
        prepare_seconds -= vector_seconds
        started = time.perf_counter()
        report = backend.write(batch)
        write_seconds += time.perf_counter() - started
        written += report.written
        if written % 50_000 < BATCH:
            print(f"  built {written:,} docs", file=sys.stderr, flush=True)
    total = time.perf_counter() - began
    prepare_seconds += total - write_seconds
    backend._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    backend.close()
    return {
        "documents": written,
        "write_seconds": write_seconds,
        "docs_per_second_write": written / write_seconds,
        "docs_per_second_build": written / (write_seconds + prepare_seconds),
        "source_records": len(records),
    }


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50/p95 in milliseconds."""
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 1),
    }


def timed(run: Callable[[int], object], count: int, warmup: int = 3) -> list[float]:
    """Latencies of ``run(i)`` for i in range(count), after a few warm-up calls."""
    for i in range(warmup):
        run(i)
    samples = []
    for i in range(count):
        started = time.perf_counter()
        run(i)
        samples.append(time.perf_counter() - started)
    return samples


class VectorTable:
    """An embedder stand-in whose query texts map to known vectors (vector given, no model time)."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.model_id, self.dims, self.vectors = MODEL_ID, DIMS, vectors

    def embed_query_text(self, text: str) -> np.ndarray:
        return self.vectors[text]

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts])

    def embed_images(self, images: Sequence[object]) -> np.ndarray:
        raise NotImplementedError


def query_texts(records: list[MapRecord], count: int) -> list[str]:
    """Two-word queries drawn from real titles (words of four letters or more)."""
    rng = np.random.default_rng(5)
    texts: list[str] = []
    while len(texts) < count:
        words = [
            w
            for w in records[int(rng.integers(len(records)))].title.lower().split()
            if w.isalpha() and len(w) >= 4
        ]
        if words:
            picks = rng.choice(len(words), size=min(2, len(words)), replace=False)
            texts.append(" ".join(words[int(p)] for p in sorted(picks)))
    return texts


def rss_mb() -> float:
    """Resident memory of this process now."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def measure_queries(directory: Path, count: int) -> dict[str, object]:
    """Open the index in this process and time keyword, semantic, hybrid and the baseline."""
    from indexer.backends.embedded import EmbeddedBackend
    from indexer.settings import load_settings
    from webapi.search.params import SearchParams
    from webapi.search.service import SearchService

    results: dict[str, object] = {"rss_before_open_mb": round(rss_mb())}
    started = time.perf_counter()
    backend = EmbeddedBackend(directory / "index.sqlite")
    backend.refresh()  # loads every column and vector
    info = backend.info()
    results["open_seconds"] = round(time.perf_counter() - started, 2)
    results["documents"] = info.documents
    records = sample_records()
    texts = query_texts(records, count)
    centres = cluster_centres()
    query_vectors = clustered_vectors(centres, count, seed=99)
    table = {f"q{i}": query_vectors[i] for i in range(count)} | {
        t: query_vectors[i] for i, t in enumerate(texts)
    }
    settings = load_settings({"data_dir": directory})
    service = SearchService(settings, backend, VectorTable(table))
    year_from, year_to = YEAR_FILTER
    common = {"year_from": year_from, "year_to": year_to, "facet": list(FACETS)}

    def keyword(i: int) -> object:
        return service.search(SearchParams(q=texts[i], mode="keyword", **common))  # type: ignore[arg-type]

    def semantic(i: int) -> object:
        return service.search(SearchParams(q=f"q{i}", mode="semantic", **common))  # type: ignore[arg-type]

    def hybrid(i: int) -> object:
        return service.search(SearchParams(q=texts[i], mode="hybrid", **common))  # type: ignore[arg-type]

    totals = [
        service.search(SearchParams(q=texts[i], mode="keyword")).total
        for i in range(min(count, 20))
    ]
    results["keyword_matches_median"] = statistics.median(totals)
    browse = service.search(SearchParams(year_from=year_from, year_to=year_to))
    results["year_filter_selectivity"] = round(browse.total / max(1, info.documents), 3)
    for name, run in (("keyword", keyword), ("semantic", semantic), ("hybrid", hybrid)):
        results[name] = percentiles(timed(run, count))
        print(f"  {name}: {results[name]}", file=sys.stderr, flush=True)
    gc.collect()
    results["rss_after_queries_mb"] = round(rss_mb())
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

    import torch

    matrix = torch.from_numpy(
        backend._columns.vectors[: backend._columns.size]
    )  # the same vectors, no copy
    torch_vectors = torch.from_numpy(query_vectors)

    def baseline(i: int) -> object:
        with torch.inference_mode():
            return torch.topk(matrix @ torch_vectors[i], settings.num_candidates)

    results["baseline_torch"] = percentiles(timed(baseline, count))
    results["torch_threads"] = torch.get_num_threads()
    results["text_embedding"] = measure_text_embedding()
    backend.close()
    return results


def measure_text_embedding(count: int = 5) -> dict[str, float]:
    """Cold (model forward) and cached (LRU hit)
    query-text embedding for ViT-B-32, random weights."""
    import open_clip

    from indexer.embedder import ClipEmbedder
    from indexer.torch_clip import LoadedModel

    model = open_clip.create_model("ViT-B-32", pretrained=None)
    loaded = LoadedModel(
        model=model,
        tokenizer=open_clip.get_tokenizer("ViT-B-32"),
        model_id="ViT-B-32:random",
        image_size=224,
        mean=(0.48145466, 0.4578275, 0.40821073),
        std=(0.26862954, 0.26130258, 0.27577711),
    )
    embedder = ClipEmbedder.from_loaded(loaded, device="cpu")
    embedder.embed_query_text("warm-up")
    cold = timed(lambda i: embedder.embed_query_text(f"sea monsters number {i}"), count, warmup=0)
    cached = timed(
        lambda i: embedder.embed_query_text(f"sea monsters number {i % count}"),
        count * 10,
        warmup=0,
    )
    return {
        "cold_p50_ms": percentiles(cold)["p50_ms"],
        "cached_p50_us": round(statistics.median(cached) * 1e6, 1),
    }


def disk_mb(directory: Path) -> float:
    """Size of the index files."""
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file()) / 2**20


def main(argv: Sequence[str] | None = None) -> None:
    """Build (in a child process, so its memory doesn't count), then measure queries here."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=PAPER_SIZE)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mapsearch-bench"))
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-build", action="store_true", help="reuse the index in --dir")
    args = parser.parse_args(argv)
    if args.build_only:
        print(json.dumps(build(args.dir, args.size)))
        return
    figures: dict[str, object] = {"size": args.size}
    if not args.skip_build:
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--build-only",
                "--size",
                str(args.size),
                "--dir",
                str(args.dir),
            ],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        figures["build"] = json.loads(child.stdout.strip().splitlines()[-1])
    figures["disk_mb"] = round(disk_mb(args.dir))
    figures["queries"] = measure_queries(args.dir, args.queries)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
