"""The ocr stage on its own Celery queue, with real processes: a worker for harvest, embed and
index, and a separate worker for ``ocr`` only (where OCR engines would be installed); an import
job with ``map_text`` goes embed → ocr → index and indexes the words read from each map."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from celery_tasks.job_specs import parse_job_spec
from celery_tasks.runner import start_job
from celery_tasks.runtime import pipeline_context
from indexer.backends import open_backend
from indexer.records import ImageRef, MapRecord
from indexer.settings import load_settings
from indexer.synthetic.lettering import font
from tests.support.http_server import ScriptedServer
from tests.support.pipeline import Worker, claim_redis_db, redis_available, serve_images
from tests.support.services import require_ocr_engine, require_service
from webapi.app import create_app

pytestmark = [pytest.mark.redis, pytest.mark.timeout(300)]


def _png(word: str | None) -> bytes:
    image = Image.new("RGB", (1400, 900), (226, 214, 180))
    draw = ImageDraw.Draw(image)
    if word:  # else blank paper
        draw.line([(0, 700), (1400, 600)], fill=(90, 120, 170), width=6)
        draw.text((500, 300), word, fill=(60, 50, 40), font=font(34))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def broker_url() -> Iterator[str]:
    base = os.environ.get("MAPSEARCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    require_service("Redis", redis_available(base), "bash scripts/services/redis.sh start")
    require_ocr_engine()
    with claim_redis_db(base) as url:
        yield url


def test_a_map_text_import_runs_through_the_ocr_queue(tmp_path: Path, broker_url: str) -> None:
    with ScriptedServer() as images:
        serve_images(images, {"/img/0.png": _png("Chesapeake"), "/img/1.png": _png(None)})
        records = [
            MapRecord(id=f"q:{n}", source="q", title=f"Chart {n}", image=ImageRef(url=url))
            for n, url in enumerate([images.url("/img/0.png"), images.url("/img/1.png")])
        ]
        records_path = tmp_path / "records.jsonl"
        records_path.write_text("\n".join(r.model_dump_json() for r in records))
        overrides = {
            "data_dir": str(tmp_path / "data"),
            "broker_url": broker_url,
            "model": "demo",
            "device": "cpu",
            "pipeline_batch_size": "1",
            "allow_private_urls": "true",
            "task_retry_backoff": "0.2",
        }
        env = {f"MAPSEARCH_{k.upper()}": v for k, v in overrides.items()}
        env["OMP_NUM_THREADS"] = "1"
        app = create_app(dict(overrides))
        main = Worker(env, tmp_path / "main.log", "main", queues="harvest,embed,index")
        reader = Worker(env, tmp_path / "ocr.log", "ocr", queues="ocr")
        try:
            job = start_job(
                app,
                parse_job_spec({"source": "records", "path": str(records_path), "map_text": True}),
            )
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                job = pipeline_context(app).jobs.get(job.id)
                if job.state in {"succeeded", "failed", "cancelled"}:
                    break
                time.sleep(0.5)
            logs = f"{main.log()[-2000:]}\n{reader.log()[-2000:]}"
            assert job.state == "succeeded", (job, logs)
            ran = "Task celery_tasks.tasks.ocr_task["  # a task received, not the startup list
            assert ran in reader.log() and ran not in main.log()
        finally:
            main.kill()
            reader.kill()
    backend = open_backend(load_settings({"data_dir": tmp_path / "data"}))
    try:
        docs = backend.fetch(["q:0", "q:1"])
    finally:
        backend.close()
    assert [w.text for w in docs["q:0"].record.map_text] == ["Chesapeake"]
    assert docs["q:0"].vector is not None and docs["q:0"].record.revision == 1
    assert docs["q:1"].record.map_text == [] and docs["q:1"].record.map_text_engine is not None
    assert any(e.startswith("q:1: map text: blank image") for e in job.errors), job.errors
