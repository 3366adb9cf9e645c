"""The in-process indexing pipeline on a real embedded index with real image files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from indexer.backends.embedded import EmbeddedBackend
from indexer.images.thumbnails import THUMBNAIL_WIDTHS, thumbnail_path, wants_thumbnail
from indexer.pipeline import image_content_hash, index_records
from indexer.records import ImageRef, MapRecord
from indexer.settings import Settings, load_settings
from tests.support.indexed_app import ColourEmbedder, draw_map, make_collection


@pytest.fixture
def pipeline_settings(tmp_path: Path) -> Settings:
    return load_settings({"data_dir": tmp_path / "data", "pipeline_batch_size": 4})


@pytest.fixture
def backend(pipeline_settings: Settings) -> EmbeddedBackend:
    backend = EmbeddedBackend.open(pipeline_settings)
    yield backend
    backend.close()


def test_indexes_every_record_and_reports_image_failures(
    pipeline_settings: Settings, backend: EmbeddedBackend
) -> None:
    records = make_collection(pipeline_settings.data_dir)
    calls: list[tuple[int, int | None]] = []
    report = index_records(
        records,
        settings=pipeline_settings,
        backend=backend,
        embedder=ColourEmbedder(),
        progress=lambda d, t: calls.append((d, t)),
    )

    assert report.seen == report.indexed == len(records) == 14
    assert report.with_vector == report.embedded == 12
    assert report.without_image == 1
    assert report.image_failures == 1 and report.image_failure_samples[0].startswith("test:broken:")
    assert calls[-1] == (14, 14) and len(calls) == 4  # batches of 4
    info = backend.info()
    assert info.documents == 14 and info.with_vectors == 12 and info.model_id == "test-colour-v1"
    broken = backend.fetch(["test:broken"])["test:broken"]
    assert broken.vector is None and broken.record.title == "A map whose scan is corrupt"
    red = backend.fetch(["test:red-0"])["test:red-0"]
    assert red.image_hash and red.model_id == "test-colour-v1"
    assert np.isclose(np.linalg.norm(red.vector), 1.0, atol=1e-5)


def test_rerun_reuses_vectors_when_image_and_model_are_unchanged(
    pipeline_settings: Settings, backend: EmbeddedBackend
) -> None:
    records = make_collection(pipeline_settings.data_dir)
    index_records(records, settings=pipeline_settings, backend=backend, embedder=ColourEmbedder())
    # one image changes: only it is embedded again
    draw_map((10, 200, 10), seed=999).save(pipeline_settings.data_dir / "images" / "red-1.png")
    embedder = ColourEmbedder()
    report = index_records(records, settings=pipeline_settings, backend=backend, embedder=embedder)
    assert report.reused_vectors == 11 and report.embedded == 1 and embedder.images_embedded == 1
    changed = backend.fetch(["test:red-1"])["test:red-1"]
    assert changed.vector is not None and changed.vector[1] > changed.vector[0]  # now green


def test_metadata_only_run_keeps_stored_vectors(
    pipeline_settings: Settings, backend: EmbeddedBackend
) -> None:
    records = make_collection(pipeline_settings.data_dir)
    index_records(records, settings=pipeline_settings, backend=backend, embedder=ColourEmbedder())
    renamed = [r.model_copy(update={"title": r.title + " (revised)"}) for r in records]
    report = index_records(
        renamed, settings=pipeline_settings, backend=backend, embedder=None, with_images=False
    )
    assert report.indexed == 14 and report.embedded == 0
    assert report.without_image == 1 and report.images_skipped == 13
    assert backend.info().with_vectors == 12
    assert backend.fetch(["test:blue-0"])["test:blue-0"].record.title.endswith("(revised)")


def test_unreachable_image_keeps_the_record_and_the_batch(
    pipeline_settings: Settings, backend: EmbeddedBackend
) -> None:
    records = make_collection(pipeline_settings.data_dir, per_colour=1)
    records.insert(
        0,
        MapRecord(
            id="test:remote",
            source="test",
            title="Remote",
            image=ImageRef(url="http://127.0.0.1:9/x.png"),
        ),
    )
    records.insert(
        1,
        MapRecord(
            id="test:escape", source="test", title="Escape", image=ImageRef(url="../../etc/passwd")
        ),
    )
    report = index_records(
        records, settings=pipeline_settings, backend=backend, embedder=ColourEmbedder()
    )
    assert report.indexed == len(records)
    assert report.image_failures == 3  # loopback URL refused, path outside data dir, corrupt file
    assert report.with_vector == 4
    assert {s.split(":")[0] + ":" + s.split(":")[1] for s in report.image_failure_samples} == {
        "test:remote",
        "test:escape",
        "test:broken",
    }


def test_image_content_hash_depends_on_pixels_only() -> None:
    image = draw_map((200, 40, 40), seed=1)
    assert image_content_hash(image) == image_content_hash(image.copy())
    assert image_content_hash(image) != image_content_hash(draw_map((200, 40, 40), seed=2))


def test_index_makes_webp_thumbnails_named_by_the_image_hash(
    pipeline_settings: Settings, backend: EmbeddedBackend
) -> None:
    records = make_collection(pipeline_settings.data_dir)
    index_records(records, settings=pipeline_settings, backend=backend, embedder=ColourEmbedder())
    red = backend.fetch(["test:red-0"])["test:red-0"]
    assert red.record.thumbnail_url == thumbnail_path(str(red.image_hash), 300)
    for width in THUMBNAIL_WIDTHS:
        path = pipeline_settings.data_dir / thumbnail_path(str(red.image_hash), width)
        with Image.open(path) as thumb:
            assert thumb.format == "WEBP" and max(thumb.size) <= width
        assert path.stat().st_mode & 0o044  # readable by a web server running as another user
    # a metadata-only run keeps it; a record with a IIIF service gets none (its server sizes)
    fresh = [r.model_copy(update={"thumbnail_url": None}) for r in records]
    index_records(
        fresh, settings=pipeline_settings, backend=backend, embedder=None, with_images=False
    )
    assert backend.fetch(["test:red-0"])["test:red-0"].record.thumbnail_url == (
        red.record.thumbnail_url
    )
    iiif = MapRecord(
        id="test:iiif",
        source="test",
        title="IIIF",
        image=ImageRef(iiif_service="https://iiif.example.org/iiif/x"),
    )
    assert not wants_thumbnail(iiif)
    assert wants_thumbnail(red.record) and not wants_thumbnail(
        red.record.model_copy(update={"thumbnail_url": "https://library.example.org/t.jpg"})
    )
