"""The pipeline's ocr stage, in process with the real RapidOCR engine and the demo model: a
reindex with ``map_text`` adds the words on each map without re-embedding, bumps the revision,
keeps the catalogue fields, counts unreadable images, and a later harvest keeps the words."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from celery_tasks.job_specs import parse_job_spec
from celery_tasks.runner import start_job
from indexer.backends import open_backend
from indexer.evaluation.map_text import iou
from indexer.ocr.reader import READER_VERSION
from indexer.records import ImageRef, MapRecord
from indexer.settings import load_settings
from indexer.synthetic.lettering import font
from tests.support.services import require_ocr_engine
from webapi.app import create_app


def _sheet(path: Path, word: str | None) -> list[int] | None:
    image = Image.new("RGB", (1400, 900), (226, 214, 180))
    draw = ImageDraw.Draw(image)
    box = None
    if word:
        draw.line([(0, 700), (1400, 600)], fill=(90, 120, 170), width=6)
        draw.text((500, 300), word, fill=(60, 50, 40), font=font(34))
        left, top, right, bottom = draw.textbbox((500, 300), word, font=font(34))
        box = [left, top, right - left, bottom - top]
    image.save(path)
    return box


def test_a_map_text_reindex_reads_words_without_re_embedding(tmp_path: Path) -> None:
    require_ocr_engine()
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    truth = _sheet(data / "images" / "0.png", "Chesapeake")
    _sheet(data / "images" / "1.png", None)  # blank paper
    records = [
        MapRecord(
            id=f"m:{n}",
            source="m",
            title=f"Chart {n}",
            subjects=["Nautical charts"],
            revision=3,
            image=ImageRef(url=f"images/{n}.png", width=1400, height=900),
        )
        for n in range(2)
    ]
    records.append(MapRecord(id="m:2", source="m", title="Catalogue only"))
    records_file = tmp_path / "records.jsonl"
    records_file.write_text("\n".join(r.model_dump_json() for r in records))
    app = create_app({"data_dir": data, "pipeline_batch_size": 2, "model": "demo", "device": "cpu"})
    imported = start_job(
        app, parse_job_spec({"source": "records", "path": str(records_file)}), inline=True
    )
    assert imported.state == "succeeded", imported
    backend = open_backend(load_settings({"data_dir": data}))
    before = backend.fetch(["m:0", "m:1", "m:2"])

    job = start_job(
        app, parse_job_spec({"source": "index", "full": True, "map_text": True}), inline=True
    )

    assert job.state == "succeeded", job
    assert (job.total, job.done, job.failed) == (3, 3, 0)
    assert any(e.startswith("m:1: map text: blank image") for e in job.errors), job.errors
    after = backend.fetch(["m:0", "m:1", "m:2"])
    chart = after["m:0"].record
    assert [w.text for w in chart.map_text] == ["Chesapeake"]
    assert truth is not None and iou(chart.map_text[0].box, truth) >= 0.5
    assert chart.map_text_engine is not None and chart.map_text_engine.startswith("rapidocr")
    assert chart.revision == 4
    assert (chart.title, chart.subjects) == ("Chart 0", ["Nautical charts"])
    assert after["m:0"].vector.tolist() == before["m:0"].vector.tolist()  # not re-embedded
    assert after["m:1"].record.map_text == [] and after["m:1"].record.revision == 4
    assert after["m:2"].record.map_text_engine is None and after["m:2"].record.revision == 0

    # Read already: a second map-text reindex keeps the words and the revision.
    again = start_job(
        app, parse_job_spec({"source": "index", "full": True, "map_text": True}), inline=True
    )
    assert again.state == "succeeded", again
    assert backend.fetch(["m:0"])["m:0"].record.revision == 4

    # Read by an older reader (an id without this reader's version): the next reindex reads it
    # again, since the reader's mends and box fitting would give other words and boxes.
    stale = backend.fetch(["m:0"])["m:0"]
    current = stale.record.map_text_engine
    assert current is not None and current.endswith(f"+reader{READER_VERSION}")
    stale.record.map_text_engine = current.rsplit("+reader", 1)[0]
    stale.record.map_text = []
    stale.record.revision = 5
    backend.write([stale])
    reread = start_job(
        app, parse_job_spec({"source": "index", "full": True, "map_text": True}), inline=True
    )
    assert reread.state == "succeeded", reread
    fresh = backend.fetch(["m:0"])["m:0"].record
    assert fresh.map_text_engine == current and fresh.revision == 6
    assert [w.text for w in fresh.map_text] == ["Chesapeake"]

    # The catalogue record harvested again (a newer revision) keeps the words of its image.
    revised = records[0].model_copy(update={"title": "Chart 0, revised", "revision": 7})
    records_file.write_text(revised.model_dump_json())
    assert start_job(
        app, parse_job_spec({"source": "records", "path": str(records_file)}), inline=True
    ).state == ("succeeded")
    kept = backend.fetch(["m:0"])["m:0"].record
    backend.close()
    assert kept.title == "Chart 0, revised"
    assert [w.text for w in kept.map_text] == ["Chesapeake"]
