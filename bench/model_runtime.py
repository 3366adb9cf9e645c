"""ONNX Runtime against torch for the same model, side by side in one process: import and load
time, query embedding latency (text, image; p50/p90 over single queries) and bulk embedding
throughput (maps/s on the same decoded images, batch 32).

    nice -n 5 .venv/bin/python bench/model_runtime.py                      # demo + ViT-B-32:random
    nice -n 5 .venv/bin/python bench/model_runtime.py --model demo --images 256 --queries 200

Needs the training extra (torch) for the torch column and for exporting models that have no
ONNX export yet (exported into a temporary folder). Prints one JSON line per model and runtime.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

QUERY_TEXTS = [
    "sea monsters",
    "a nautical chart of the coast",
    "city plan with streets",
    "compass rose",
    "railroad map of the western states",
    "hand-coloured county atlas",
    "grayscale topographic survey",
    "world map with ships",
]


def import_seconds(module: str) -> float:
    """Wall seconds of a fresh interpreter importing ``module`` (and nothing else)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
    return time.perf_counter() - started


def demo_images(count: int, seed: int) -> list[Image.Image]:
    """Decoded maps of the synthetic world, as ``mapsearch demo`` draws them."""
    from indexer.synthetic import generate_world

    return [synthetic.render().convert("RGB") for synthetic in generate_world(count, seed=seed)]


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 and p90 in milliseconds."""
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 2),
    }


def measure(embedder: Any, images: list[Image.Image], queries: int, batch: int) -> dict[str, Any]:
    """Latency of single queries and throughput of batches for one loaded embedder."""
    embedder.embed_texts(["warm up"])
    embedder.embed_images(images[:2])
    text_times, image_times = [], []
    for n in range(queries):
        text = f"{QUERY_TEXTS[n % len(QUERY_TEXTS)]} {n}"  # never a cache hit
        started = time.perf_counter()
        embedder.embed_query_text(text)
        text_times.append(time.perf_counter() - started)
    for n in range(max(10, queries // 4)):
        started = time.perf_counter()
        embedder.embed_images([images[n % len(images)]])
        image_times.append(time.perf_counter() - started)
    embedder.batch_size = batch
    started = time.perf_counter()
    embedder.embed_images(images)
    bulk = len(images) / (time.perf_counter() - started)
    return {
        "text_query": percentiles(text_times),
        "image_query": percentiles(image_times),
        "bulk_maps_per_s": round(bulk, 1),
    }


def bulk_rounds(specs: list[str], images: list[Image.Image], batch: int, rounds: int) -> None:
    """Bulk maps/s of both runtimes in alternating rounds (a noisy machine hits both alike)."""
    from indexer.embedder import ClipEmbedder
    from indexer.model_export import export_onnx
    from indexer.model_specs import onnx_export_for
    from indexer.torch_clip import load_model

    with tempfile.TemporaryDirectory(prefix="mapsearch-runtime-bench-") as scratch:
        for spec in specs:
            export = onnx_export_for(spec) or export_onnx(
                load_model(spec), Path(scratch) / spec.replace(":", "-")
            )
            embedders = {
                "onnx": ClipEmbedder(str(export), runtime="onnx", device="cpu").load(),
                "torch": ClipEmbedder(spec, runtime="torch", device="cpu").load(),
            }
            rates: dict[str, list[float]] = {name: [] for name in embedders}
            for embedder in embedders.values():
                embedder.batch_size = batch
                embedder.embed_images(images[:batch])  # warm up
            for _ in range(rounds):
                for name, embedder in embedders.items():
                    started = time.perf_counter()
                    embedder.embed_images(images)
                    rates[name].append(len(images) / (time.perf_counter() - started))
            print(
                json.dumps(
                    {
                        "model": spec,
                        "images": len(images),
                        "rounds": rounds,
                        **{
                            f"{name}_bulk_maps_per_s_median": round(statistics.median(values), 1)
                            for name, values in rates.items()
                        },
                        "load_average": [round(v, 2) for v in os.getloadavg()],
                    }
                ),
                flush=True,
            )


def main() -> None:
    """Print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", help="spec (repeatable)")
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument(
        "--bulk-rounds",
        type=int,
        default=0,
        help="only bulk throughput: alternate the runtimes this many rounds, print medians",
    )
    args = parser.parse_args()

    from indexer.embedder import ClipEmbedder
    from indexer.model_export import export_onnx
    from indexer.model_specs import onnx_export_for
    from indexer.torch_clip import load_model

    print(
        json.dumps(
            {
                "import_s": {
                    name: round(import_seconds(name), 2) for name in ("onnxruntime", "torch")
                },
                "cpus": os.cpu_count(),
                "load_average": os.getloadavg(),
            }
        )
    )
    images = demo_images(args.images, seed=11)
    if args.bulk_rounds:
        bulk_rounds(args.model or ["demo"], images, args.batch, args.bulk_rounds)
        return
    with tempfile.TemporaryDirectory(prefix="mapsearch-runtime-bench-") as scratch:
        for spec in args.model or ["demo", "ViT-B-32:random"]:
            export = onnx_export_for(spec)
            if export is None:
                export = export_onnx(load_model(spec), Path(scratch) / spec.replace(":", "-"))
            for runtime, source in (("onnx", str(export)), ("torch", spec)):
                started = time.perf_counter()
                embedder = ClipEmbedder(source, runtime=runtime, device="cpu").load()  # type: ignore[arg-type]
                load_s = time.perf_counter() - started
                row = {
                    "model": spec,
                    "model_id": embedder.model_id,
                    "runtime": runtime,
                    "load_s": round(load_s, 2),
                    **measure(embedder, images, args.queries, args.batch),
                    "load_average": [round(v, 2) for v in os.getloadavg()],
                }
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
