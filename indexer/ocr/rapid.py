"""RapidOCR (PP-OCRv4 detection + recognition ONNX models shipped in the wheel, run by ONNX
Runtime): finds text at any angle and reads the rotated crop, so turned labels are read too."""

from __future__ import annotations

from importlib import metadata
from typing import Any

import numpy as np

from indexer.ocr.engine import EngineLine, OcrUnavailable, Quad


class RapidOcrEngine:
    """``OcrEngine`` over ``rapidocr_onnxruntime.RapidOCR``; tiles are detected at their own
    size (the reader has already scaled them to a legible resolution)."""

    def __init__(self, threads: int = 1, tile_size: int = 1024) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise OcrUnavailable(
                "rapidocr-onnxruntime is not installed: install the `ocr` extra "
                "(scripts/install-ocr.sh)"
            ) from exc
        self.name = f"rapidocr-{metadata.version('rapidocr-onnxruntime')}"
        self._ocr: Any = RapidOCR(
            intra_op_num_threads=threads,
            inter_op_num_threads=1,
            det_limit_type="max",
            det_limit_side_len=tile_size,
            max_side_len=tile_size * 2,
            print_verbose=False,
        )

    def read(self, tile: np.ndarray) -> list[EngineLine]:
        """Text lines of one RGB tile, as RapidOCR's corners (tile pixels) and scores."""
        # RapidOCR, like OpenCV, takes BGR.
        result, _ = self._ocr(np.ascontiguousarray(tile[:, :, ::-1]))
        lines = []
        for corners, text, score in result or []:
            quad: Quad = tuple((float(x), float(y)) for x, y in corners)  # type: ignore[assignment]
            lines.append(EngineLine(text=str(text), quad=quad, score=float(score)))
        return lines
