"""A native crash of the OCR engine on a real Celery ``ocr`` worker: the engine's child process
dies on the marked images (``abort()``, a segmentation fault), the worker's pool process lives on
(no lost worker, no redelivered batch), those images get no words and a warning, and the other
maps of the same batch are read and indexed."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from celery_tasks.job_specs import parse_job_spec
from celery_tasks.runner import start_job
from celery_tasks.runtime import pipeline_context
from indexer.backends import open_backend
from indexer.records import ImageRef, MapRecord
from indexer.settings import load_settings
from tests.support.crashing_ocr import sheet_png
from tests.support.http_server import ScriptedServer
from tests.support.pipeline import Worker, claim_redis_db, redis_available, serve_images
from tests.support.services import require_ocr_engine, require_service
from webapi.app import create_app

pytestmark = [pytest.mark.redis, pytest.mark.timeout(300)]

SHEETS = [("Chesapeake", None), ("Elmouth", "abort"), ("Norber", None), ("Quinnor", "segfault")]


@pytest.fixture
def broker_url() -> Iterator[str]:
    base = os.environ.get("MAPSEARCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    require_service("Redis", redis_available(base), "bash scripts/services/redis.sh start")
    require_ocr_engine()
    with claim_redis_db(base) as url:
        yield url


def test_an_engine_crash_on_the_ocr_worker_costs_one_image(tmp_path: Path, broker_url: str) -> None:
    with ScriptedServer() as images:
        serve_images(
            images,
            {f"/img/{n}.png": sheet_png(word, mark) for n, (word, mark) in enumerate(SHEETS)},
        )
        records = [
            MapRecord(
                id=f"c:{n}",
                source="c",
                title=f"Chart {n}",
                image=ImageRef(url=images.url(f"/img/{n}.png"), width=1400, height=900),
            )
            for n in range(len(SHEETS))
        ]
        records_path = tmp_path / "records.jsonl"
        records_path.write_text("\n".join(r.model_dump_json() for r in records))
        overrides = {
            "data_dir": str(tmp_path / "data"),
            "broker_url": broker_url,
            "model": "demo",
            "device": "cpu",
            "pipeline_batch_size": str(len(SHEETS)),  # one batch: the crashes happen mid-batch
            "allow_private_urls": "true",
            "task_retry_backoff": "0.2",
            "ocr_engine": "tests.support.crashing_ocr:CrashingEngine",
        }
        env = {f"MAPSEARCH_{k.upper()}": v for k, v in overrides.items()}
        env["OMP_NUM_THREADS"] = "1"
        app = create_app(dict(overrides))
        main = Worker(env, tmp_path / "main.log", "main", queues="harvest,embed,index")
        reader = Worker(env, tmp_path / "ocr.log", "ocr", queues="ocr")
        try:
            spec = {"source": "records", "path": str(records_path), "map_text": True}
            job = start_job(app, parse_job_spec(spec))
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                job = pipeline_context(app).jobs.get(job.id)
                if job.state in {"succeeded", "failed", "cancelled"}:
                    break
                time.sleep(0.5)
            ocr_log = reader.log()
            assert job.state == "succeeded", (job, f"{main.log()[-2000:]}\n{ocr_log[-3000:]}")
            assert ocr_log.count("Task celery_tasks.tasks.ocr_task[") >= 1
            # the pool process survived: Celery saw no lost worker and redelivered nothing
            for sign in ("WorkerLostError", "exited with 'signal", "Restoring"):
                assert sign not in ocr_log, ocr_log[-3000:]
            assert "engine process died (SIGABRT)" in ocr_log
            assert reader.process.poll() is None
        finally:
            main.kill()
            reader.kill()
    assert (job.total, job.done, job.failed) == (4, 4, 0)
    warnings = sorted(e for e in job.errors if "map text: engine failed" in e)
    assert warnings == [
        "c:1: map text: engine failed: EngineCrashed: engine process died (SIGABRT)",
        "c:3: map text: engine failed: EngineCrashed: engine process died (SIGSEGV)",
    ]
    backend = open_backend(load_settings({"data_dir": tmp_path / "data"}))
    try:
        docs = backend.fetch([f"c:{n}" for n in range(len(SHEETS))])
    finally:
        backend.close()
    words = {doc_id: [w.text for w in doc.record.map_text] for doc_id, doc in docs.items()}
    assert words == {"c:0": ["Chesapeake"], "c:1": [], "c:2": ["Norber"], "c:3": []}
