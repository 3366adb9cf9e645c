"""The in-process pipeline (no broker) with real images and the demo model: batches pipelined
with image prefetch, a corrupt image reported while its batch goes on, the job verified."""

from __future__ import annotations

from pathlib import Path

from celery_tasks.job_specs import parse_job_spec
from celery_tasks.runner import start_job
from indexer.backends import open_backend
from indexer.records import ImageRef, MapRecord
from indexer.settings import load_settings
from tests.support.pipeline import png_bytes
from webapi.app import create_app


def test_images_are_embedded_and_a_corrupt_one_is_reported(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    records = []
    for n in range(10):
        path = data / "images" / f"{n}.png"
        path.write_bytes(b"not an image at all" if n == 6 else png_bytes(n))
        records.append(
            MapRecord(
                id=f"local:{n}",
                source="local",
                title=f"Map {n}",
                image=ImageRef(url=f"images/{n}.png"),
            )
        )
    records_file = tmp_path / "records.jsonl"
    records_file.write_text("\n".join(r.model_dump_json() for r in records))
    app = create_app({"data_dir": data, "pipeline_batch_size": 4, "model": "demo", "device": "cpu"})
    snapshots: list[tuple[int, int]] = []

    job = start_job(
        app,
        parse_job_spec({"source": "records", "path": str(records_file)}),
        inline=True,
        progress=lambda j: snapshots.append((j.done, j.total)),
    )

    assert job.state == "succeeded", job
    assert (job.total, job.done, job.failed, job.without_vector) == (10, 10, 0, 1)
    assert any(error.startswith("local:6") for error in job.errors), job.errors
    assert snapshots[-1] == (10, 10) and len(snapshots) >= 3  # progress after every batch
    backend = open_backend(load_settings({"data_dir": data}))
    try:
        docs = backend.fetch([r.id for r in records])
    finally:
        backend.close()
    assert docs["local:6"].vector is None
    assert all(docs[f"local:{n}"].vector is not None for n in range(10) if n != 6)
    assert len({docs[f"local:{n}"].image_hash for n in range(10) if n != 6}) == 9


def test_reindex_keeps_current_vectors_without_fetching(tmp_path: Path) -> None:
    """Same model: a full reindex copies stored vectors (the image files are gone and it still
    succeeds); a record that had no vector is tried again and reported again."""
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    records = []
    for n in range(6):
        (data / "images" / f"{n}.png").write_bytes(b"broken" if n == 2 else png_bytes(n))
        records.append(
            MapRecord(
                id=f"r:{n}", source="r", title=f"Map {n}", image=ImageRef(url=f"images/{n}.png")
            )
        )
    records_file = tmp_path / "records.jsonl"
    records_file.write_text("\n".join(r.model_dump_json() for r in records))
    app = create_app({"data_dir": data, "pipeline_batch_size": 4, "model": "demo", "device": "cpu"})
    assert (
        start_job(
            app, parse_job_spec({"source": "records", "path": str(records_file)}), inline=True
        ).state
        == "succeeded"
    )
    backend = open_backend(load_settings({"data_dir": data}))
    before = backend.fetch([r.id for r in records])
    for n in range(6):
        (data / "images" / f"{n}.png").unlink()

    job = start_job(app, parse_job_spec({"source": "index", "full": True}), inline=True)

    assert job.state == "succeeded", job
    assert (job.total, job.done, job.without_vector) == (6, 6, 1)
    assert [e.split(":")[0] + ":" + e.split(":")[1] for e in job.errors] == ["r:2"]  # tried again
    after = backend.fetch([r.id for r in records])
    backend.close()
    for n in (0, 1, 3, 4, 5):
        assert after[f"r:{n}"].vector is not None
        assert after[f"r:{n}"].vector.tolist() == before[f"r:{n}"].vector.tolist()
        assert after[f"r:{n}"].image_hash == before[f"r:{n}"].image_hash


def test_a_staff_reindex_adds_regions_without_re_embedding_whole_maps(tmp_path: Path) -> None:
    """Regions turned on after indexing: a full reindex job loads each large sheet again and
    embeds only its regions; the whole-map vectors stay exactly as they were."""
    from tests.unit.indexer.test_regions import sheet

    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    records = []
    for n in range(3):
        sheet().save(data / "images" / f"{n}.png")
        ref = ImageRef(url=f"images/{n}.png", width=2400, height=1600)
        records.append(MapRecord(id=f"g:{n}", source="g", title=f"Sheet {n}", image=ref))
    records_file = tmp_path / "records.jsonl"
    records_file.write_text("\n".join(r.model_dump_json() for r in records))
    base = {"data_dir": data, "model": "demo", "device": "cpu"}
    off = create_app({**base, "region_grid": ""})
    spec = parse_job_spec({"source": "records", "path": str(records_file)})
    assert start_job(off, spec, inline=True).state == "succeeded"
    backend = open_backend(load_settings({"data_dir": data}))
    before = backend.fetch([r.id for r in records])
    assert all(doc.regions is None for doc in before.values())

    on = create_app({**base, "region_grid": "2,4@0.25"})
    job = start_job(on, parse_job_spec({"source": "index", "full": True}), inline=True)

    assert job.state == "succeeded", job
    backend.refresh()
    after = backend.fetch([r.id for r in records])
    backend.close()
    for doc_id, doc in after.items():
        assert doc.vector is not None and before[doc_id].vector is not None
        assert doc.vector.tolist() == before[doc_id].vector.tolist()
        assert doc.regions is not None and len(doc.regions) > 0 and doc.regions.grid == "2,4@0.25"
