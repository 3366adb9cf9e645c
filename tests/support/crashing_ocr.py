"""Fault injection for the OCR engine interface: an engine that reads like RapidOCR but dies the
way native code does on a marked image (``abort()``, a segmentation fault) or hangs, and the
marked test sheets. Loaded by path:
``MAPSEARCH_OCR_ENGINE=tests.support.crashing_ocr:CrashingEngine``."""

from __future__ import annotations

import ctypes
import io
import os
import time

import numpy as np
from PIL import Image, ImageDraw

from indexer.ocr.engine import EngineLine, Quad, TwoStepEngine, load_engine
from indexer.synthetic.lettering import font

# The top-left MARK_SIZE × MARK_SIZE pixels of an image (so of its first tile) in one of these
# colours make the engine crash there.
MARKS: dict[str, tuple[int, int, int]] = {
    "abort": (255, 0, 255),
    "segfault": (0, 255, 255),
    "hang": (255, 255, 0),
    "raise": (0, 255, 0),
}
MARK_SIZE = 16
PAPER = (226, 214, 180)


class CrashingEngine:
    """RapidOCR, except on a marked tile: ``abort()`` (SIGABRT), a read of address 0 (SIGSEGV),
    sleeping for an hour, or a Python exception."""

    def __init__(self, threads: int = 1) -> None:
        self._inner = load_engine("rapidocr", threads=threads)
        self.name = f"crashing-{self._inner.name}"

    def read(self, tile: np.ndarray) -> list[EngineLine]:
        """The inner engine's lines, unless the tile carries a mark."""
        _fail_if_marked(tile)
        return self._inner.read(tile)

    def detect(self, tile: np.ndarray) -> list[Quad]:
        """The inner engine's line corners, unless the tile carries a mark (the reader's first
        step: RapidOCR reads in two)."""
        _fail_if_marked(tile)
        assert isinstance(self._inner, TwoStepEngine)
        return self._inner.detect(tile)

    def recognize(self, tile: np.ndarray, quads: list[Quad]) -> list[EngineLine]:
        """The inner engine's lines at ``quads``, unless the tile carries a mark."""
        _fail_if_marked(tile)
        assert isinstance(self._inner, TwoStepEngine)
        return self._inner.recognize(tile, quads)


def _fail_if_marked(tile: np.ndarray) -> None:
    corner = tile[:MARK_SIZE, :MARK_SIZE].reshape(-1, 3)
    for how, colour in MARKS.items():
        if corner.shape[0] == MARK_SIZE * MARK_SIZE and (corner == colour).all():
            _fail(how)


def _fail(how: str) -> None:
    if how == "abort":
        os.abort()
    if how == "segfault":
        ctypes.string_at(0)  # native code reading address 0
    if how == "hang":
        time.sleep(3600)
    raise ValueError("the engine cannot read this tile")


def sheet(word: str | None, mark: str | None = None) -> Image.Image:
    """A 1,400 × 900 sheet with ``word`` printed on it (else blank paper), marked to crash."""
    image = Image.new("RGB", (1400, 900), PAPER)
    draw = ImageDraw.Draw(image)
    if word:
        draw.line([(0, 700), (1400, 600)], fill=(90, 120, 170), width=6)
        draw.text((500, 300), word, fill=(60, 50, 40), font=font(34))
    if mark:
        draw.rectangle([(0, 0), (MARK_SIZE - 1, MARK_SIZE - 1)], fill=MARKS[mark])
    return image


def sheet_png(word: str | None, mark: str | None = None) -> bytes:
    """``sheet`` as PNG bytes."""
    buffer = io.BytesIO()
    sheet(word, mark).save(buffer, format="PNG")
    return buffer.getvalue()
