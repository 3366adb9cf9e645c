"""Pipeline throughput: end-to-end images/s of fetch (HTTP from 127.0.0.1) + decode + embed +
index through the real in-process pipeline, against the embedder's own images/s on tensors
already decoded and preprocessed. A ratio near 1 means the pipeline keeps the model busy.

    nice -n 5 .venv/bin/python bench/pipeline.py --model demo --images 512
    nice -n 5 .venv/bin/python bench/pipeline.py --model ViT-B-32:random --images 256
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


def render_demo_images(count: int, seed: int) -> list[bytes]:
    """JPEGs of the synthetic demo world (what ``mapsearch demo`` serves)."""
    from indexer.synthetic import generate_world

    out = []
    for synthetic in generate_world(count, seed=seed):
        buffer = io.BytesIO()
        synthetic.render().convert("RGB").save(buffer, format="JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def serve(images: list[bytes]) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``/img/<n>.jpg`` from memory on 127.0.0.1."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = images[int(self.path.rsplit("/", 1)[1].split(".")[0])]
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def embedder_rates(embedder: Any, images: list[Image.Image], batch: int) -> dict[str, float]:
    """images/s of the model on preprocessed tensors, and of ``embed_images`` on decoded images."""
    import torch

    tensors = torch.from_numpy(np.stack([embedder.preprocess(image) for image in images]))
    model = embedder.model
    with torch.inference_mode():
        model.encode_image(tensors[:batch].to(embedder.device))  # warm-up
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(tensors), batch):
            model.encode_image(tensors[start : start + batch].to(embedder.device))
        tensor_rate = len(tensors) / (time.perf_counter() - started)
        tensor_cpu = len(tensors) / (time.process_time() - cpu)
    started = time.perf_counter()
    embedder.embed_images(images)
    decoded_rate = len(images) / (time.perf_counter() - started)
    return {
        "model_on_tensors": tensor_rate,
        "model_on_tensors_per_cpu_s": tensor_cpu,
        "embed_images_on_decoded": decoded_rate,
    }


def pipeline_rate(
    model: str, urls: list[str], batch: int, fetch_workers: int, device: str
) -> dict[str, Any]:
    """images/s through ``mapsearch harvest records`` in-process: fetch, decode, embed, index."""
    from celery_tasks.runner import start_job
    from indexer.records import ImageRef, MapRecord
    from webapi.app import create_app

    with tempfile.TemporaryDirectory(prefix="mapsearch-bench-") as tmp:
        records = Path(tmp) / "records.jsonl"
        records.write_text(
            "\n".join(
                MapRecord(
                    id=f"bench:{n}", source="bench", title=f"Bench map {n}", image=ImageRef(url=url)
                ).model_dump_json()
                for n, url in enumerate(urls)
            )
        )
        app = create_app(
            {
                "data_dir": Path(tmp) / "data",
                "model": model,
                "device": device,
                "allow_private_urls": True,
                "image_cache": False,
                "pipeline_batch_size": batch,
                "embed_batch_size": batch,
                "image_fetch_workers": fetch_workers,
            }
        )
        started, cpu = time.perf_counter(), time.process_time()
        job = start_job(app, "harvest", {"source": "records", "path": str(records)}, inline=True)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if job.state != "succeeded" or job.without_vector:
            raise SystemExit(f"pipeline run did not embed everything: {job.to_dict()}")
        return {
            "images_per_s": len(urls) / elapsed,
            "images_per_cpu_s": len(urls) / cpu,
            "seconds": elapsed,
        }


def main() -> None:
    """Print a JSON line per model with both rates and their ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model",
        action="append",
        help="MAPSEARCH_MODEL spec (repeatable); default: demo and ViT-B-32:random",
    )
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--fetch-workers", type=int, default=4)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    from indexer.embedder import process_embedder
    from indexer.images import decode_upload
    from indexer.settings import load_settings

    jpegs = render_demo_images(args.images, args.seed)
    server, base = serve(jpegs)
    urls = [f"{base}/img/{n}.jpg" for n in range(len(jpegs))]
    try:
        for model in args.model or ["demo", "ViT-B-32:random"]:
            settings = load_settings(
                {
                    "model": model,
                    "model_runtime": "torch",
                    "device": args.device,
                    "embed_batch_size": args.batch,
                }
            )
            embedder = process_embedder(settings).load()
            decoded = [decode_upload(data, settings) for data in jpegs]
            model_rates = embedder_rates(embedder, decoded, args.batch)
            end_to_end = pipeline_rate(model, urls, args.batch, args.fetch_workers, args.device)
            print(
                json.dumps(
                    {
                        "model": model,
                        "model_id": embedder.model_id,
                        "images": args.images,
                        "batch": args.batch,
                        "fetch_workers": args.fetch_workers,
                        "device": embedder.device,
                        "torch_threads": __import__("torch").get_num_threads(),
                        "cpus": os.cpu_count(),
                        "model_on_tensors_per_s": round(model_rates["model_on_tensors"], 1),
                        "embed_images_per_s": round(model_rates["embed_images_on_decoded"], 1),
                        "pipeline_per_s": round(end_to_end["images_per_s"], 1),
                        "ratio_pipeline_vs_model": round(
                            end_to_end["images_per_s"] / model_rates["model_on_tensors"], 3
                        ),
                        # per CPU-second of this process: meaningful
                        # on a busy machine, and the share of the
                        # work that is the model (1.0 = fetch,
                        # decode, preprocess, index cost nothing)
                        "model_on_tensors_per_cpu_s": round(
                            model_rates["model_on_tensors_per_cpu_s"], 1
                        ),
                        "pipeline_per_cpu_s": round(end_to_end["images_per_cpu_s"], 1),
                        "cpu_ratio_pipeline_vs_model": round(
                            end_to_end["images_per_cpu_s"]
                            / model_rates["model_on_tensors_per_cpu_s"],
                            3,
                        ),
                        "load_avg": [round(v, 2) for v in os.getloadavg()],
                    }
                ),
                flush=True,
            )
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
