"""The OCR engine interface: an engine reads one RGB tile and returns text lines with their
quadrilaterals in tile pixels. ``load_engine`` builds one by name, or from a ``module:factory``
path so a library can plug in its own (a mapKurator service client, say)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol, TypeGuard, runtime_checkable

import numpy as np

# A quadrilateral: four (x, y) corners, clockwise from the top-left of the text as it reads.
Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


class OcrUnavailable(RuntimeError):
    """The engine cannot run here (its package or program is not installed)."""


@dataclass(frozen=True)
class EngineLine:
    """One line of text an engine read: its text, corners in tile pixels, confidence 0–1."""

    text: str
    quad: Quad
    score: float


@runtime_checkable
class OcrEngine(Protocol):
    """What the tiled reader needs from an engine."""

    name: str  # recorded with the words, e.g. "rapidocr-1.4.4"

    def read(self, tile: np.ndarray) -> list[EngineLine]:
        """Text lines of one RGB tile (uint8, height × width × 3)."""
        ...


@runtime_checkable
class TwoStepEngine(OcrEngine, Protocol):
    """An engine that finds lines and reads them in separate steps. Overlapping tiles find most
    labels twice; the reader then recognises each line once (recognition is most of the cost)."""

    def detect(self, tile: np.ndarray) -> list[Quad]:
        """Corners of the text lines in one RGB tile (tile pixels), nothing read yet."""
        ...

    def recognize(self, tile: np.ndarray, quads: list[Quad]) -> list[EngineLine]:
        """The lines at ``quads`` of ``tile``, read (one per quad, in order; an empty text with
        score 0 where nothing legible is there)."""
        ...


def reads_in_two_steps(engine: OcrEngine) -> TypeGuard[TwoStepEngine]:
    """Whether ``engine`` can detect and recognise separately (an engine in a child process says
    so for the engine it runs)."""
    return isinstance(engine, TwoStepEngine) and bool(getattr(engine, "two_step", True))


ENGINES: dict[str, str] = {
    "rapidocr": "indexer.ocr.rapid:RapidOcrEngine",
    "tesseract": "indexer.ocr.tesseract:TesseractEngine",
}


def load_engine(name: str, threads: int = 1) -> OcrEngine:
    """The engine called ``name`` (``rapidocr``, ``tesseract``) or built by ``module:factory``
    (called with ``threads=``); raises ``OcrUnavailable`` when it cannot run here."""
    target = ENGINES.get(name, name)
    module_name, _, factory_name = target.partition(":")
    if not factory_name:
        raise OcrUnavailable(
            f"unknown OCR engine {name!r}: use one of {', '.join(ENGINES)} or module:factory"
        )
    try:
        factory = getattr(importlib.import_module(module_name), factory_name)
    except (ImportError, AttributeError) as exc:
        raise OcrUnavailable(f"OCR engine {name!r} cannot be loaded: {exc}") from exc
    engine = factory(threads=threads)
    if not isinstance(engine, OcrEngine):
        raise OcrUnavailable(f"{target} did not build an OCR engine (needs name and read())")
    return engine
