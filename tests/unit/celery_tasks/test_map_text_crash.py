"""A native crash of the OCR engine, through the real pipeline's ocr stage (in process): the
engine runs in a child process, so an ``abort()`` or a segmentation fault on one image gives
that image no words and a counted warning, and the batch goes on with the next image."""

from __future__ import annotations

from pathlib import Path

from celery_tasks.job_specs import parse_job_spec
from celery_tasks.runner import start_job
from indexer.backends import open_backend
from indexer.ocr.documents import process_engine
from indexer.records import ImageRef, MapRecord
from indexer.settings import load_settings
from tests.support.crashing_ocr import sheet
from tests.support.services import require_ocr_engine
from webapi.app import create_app

CRASHING = "tests.support.crashing_ocr:CrashingEngine"
# (word printed, how the engine fails on it): crashes between and after good images
SHEETS = [("Chesapeake", None), ("Elmouth", "abort"), ("Norber", None), ("Quinnor", "segfault")]


def test_an_engine_crash_costs_one_image_its_words_and_the_batch_goes_on(tmp_path: Path) -> None:
    require_ocr_engine()
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    records = []
    for n, (word, mark) in enumerate(SHEETS):
        sheet(word, mark).save(data / "images" / f"{n}.png")
        image = ImageRef(url=f"images/{n}.png", width=1400, height=900)
        records.append(MapRecord(id=f"m:{n}", source="m", title=f"Chart {n}", image=image))
    records_file = tmp_path / "records.jsonl"
    records_file.write_text("\n".join(r.model_dump_json() for r in records))
    config = {
        "data_dir": data,
        "pipeline_batch_size": len(SHEETS),  # one batch: the crashes happen mid-batch
        "model": "demo",
        "device": "cpu",
        "ocr_engine": CRASHING,
    }
    app = create_app(config)
    engine = process_engine(CRASHING, True)  # the pipeline's own (cached) engine of this process
    crashes = engine.crashes  # type: ignore[attr-defined]
    spec = {"source": "records", "path": str(records_file), "map_text": True}

    job = start_job(app, parse_job_spec(spec), inline=True)

    assert job.state == "succeeded", job
    assert (job.total, job.done, job.failed) == (4, 4, 0)
    warnings = [e for e in job.errors if "map text: engine failed" in e]
    assert sorted(warnings) == [
        "m:1: map text: engine failed: EngineCrashed: engine process died (SIGABRT)",
        "m:3: map text: engine failed: EngineCrashed: engine process died (SIGSEGV)",
    ]
    backend = open_backend(load_settings({"data_dir": data}))
    try:
        docs = backend.fetch([f"m:{n}" for n in range(len(SHEETS))])
    finally:
        backend.close()
    words = {doc_id: [w.text for w in doc.record.map_text] for doc_id, doc in docs.items()}
    assert words == {"m:0": ["Chesapeake"], "m:1": [], "m:2": ["Norber"], "m:3": []}
    assert all(doc.vector is not None for doc in docs.values())  # indexed, crash or not
    assert engine.crashes == crashes + 2  # type: ignore[attr-defined]
