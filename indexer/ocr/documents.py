"""Map text for index documents: read the words of each document's image with the configured
engine and put them on its record (revision bumped, every catalogue field and the vector kept).
The pipeline's ``ocr`` stage and the CLI call this; images that cannot be read are counted."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image

from indexer.error_samples import keep_sample
from indexer.ocr.engine import OcrEngine, load_engine
from indexer.ocr.isolated import IsolatedEngine
from indexer.ocr.reader import ReaderSettings, read_map_text, reader_id
from indexer.records import IndexDocument
from indexer.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class MapTextReport:
    """What one OCR batch did."""

    read: int = 0  # documents whose image was read (with or without words)
    words: int = 0
    already_read: int = 0  # read before by the same engine: kept as they are
    without_image: int = 0
    warnings: int = 0  # unreadable, blank or tiny images, engine failures and crashes
    warning_samples: list[str] = field(default_factory=list)

    def warn(self, doc_id: str, why: str) -> None:
        """Count one image that gave no words for a reason, keeping a sample."""
        self.warnings += 1
        keep_sample(self.warning_samples, f"{doc_id}: map text: {why}")


@functools.cache
def process_engine(name: str, isolate: bool = True) -> OcrEngine:
    """The OCR engine of this process, loaded once (models are large to load); ``isolate``: in
    a child process that a native crash of the engine takes down instead of this one."""
    if isolate:
        return IsolatedEngine(name, threads=1)
    return load_engine(name, threads=1)


def reader_settings(settings: Settings) -> ReaderSettings:
    """The tiled reader's settings from the application's."""
    return ReaderSettings(scale=settings.ocr_scale, min_score=settings.ocr_min_score)


def add_map_text(
    documents: Sequence[IndexDocument],
    settings: Settings,
    engine: OcrEngine | None = None,
    redo: bool = False,
) -> MapTextReport:
    """Read the map text of ``documents`` in place (skipping those this engine read already,
    unless ``redo``); each changed record gets ``revision + 1``."""
    engine = engine or process_engine(settings.ocr_engine, settings.ocr_isolate)
    report = MapTextReport()
    fetch_settings = settings.model_copy(update={"image_fetch_size": settings.ocr_fetch_size})
    for doc in documents:
        record = doc.record
        if not record.has_image or record.image is None:
            report.without_image += 1
            continue
        if record.map_text_engine == reader_id(engine.name) and not redo:
            report.already_read += 1
            continue
        try:
            image = _load(doc, fetch_settings)
        except Exception as exc:  # fetch/decode failures: this image gives no words
            report.warn(record.id, f"unreadable image: {type(exc).__name__}: {exc}")
            continue
        full_size = None
        if record.image.width and record.image.height:
            full_size = (record.image.width, record.image.height)
        outcome = read_map_text(image, engine, reader_settings(settings), full_size=full_size)
        if outcome.warning is not None:
            report.warn(record.id, outcome.warning)
        record.map_text = outcome.words
        record.map_text_engine = reader_id(engine.name)
        record.revision += 1
        report.read += 1
        report.words += len(outcome.words)
    return report


def _load(doc: IndexDocument, settings: Settings) -> Image.Image:
    from indexer.images import load_image

    assert doc.record.image is not None
    return load_image(doc.record.image, settings, settings.data_dir)
