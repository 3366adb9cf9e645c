"""Reading the words printed on map images: one small engine interface (``OcrEngine``), the
engines that ship with mapsearch (RapidOCR, Tesseract), and the tiled reader that turns an image
of any size into ``MapWord``s in full-resolution pixels."""

from indexer.ocr.engine import EngineLine, OcrEngine, OcrUnavailable, load_engine
from indexer.ocr.reader import OcrOutcome, ReaderSettings, read_map_text

__all__ = [
    "EngineLine",
    "OcrEngine",
    "OcrOutcome",
    "OcrUnavailable",
    "ReaderSettings",
    "load_engine",
    "read_map_text",
]
