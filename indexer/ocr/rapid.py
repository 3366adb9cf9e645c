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
            # a line's score is the detector's mean over the line's own outline, not over its
            # bounding rectangle: where a level name touches a turned one the rectangle of the
            # two is mostly paper, and "fast" scoring drops both (legible names lost)
            det_score_mode="slow",
            max_side_len=tile_size * 2,
            print_verbose=False,
        )

    two_step = True  # detect and recognize are separate (TwoStepEngine)

    def read(self, tile: np.ndarray) -> list[EngineLine]:
        """Text lines of one RGB tile, as RapidOCR's corners (tile pixels) and scores."""
        # RapidOCR, like OpenCV, takes BGR.
        result, _ = self._ocr(_bgr(tile))
        lines = []
        for corners, text, score in result or []:
            lines.append(EngineLine(text=str(text), quad=_quad(corners), score=float(score)))
        return lines

    def detect(self, tile: np.ndarray) -> list[Quad]:
        """Corners of the text lines PP-OCR's detector finds in one RGB tile."""
        found, _ = self._ocr(_bgr(tile), use_cls=False, use_rec=False)
        return [_quad(corners) for corners in found or []]

    def recognize(self, tile: np.ndarray, quads: list[Quad]) -> list[EngineLine]:
        """The lines at ``quads``: each cut out straight (RapidOCR's own perspective crop), turned
        upright by the direction classifier, then read, all in batches."""
        if not quads:
            return []
        corners = [np.array(quad, dtype=np.float32) for quad in quads]
        crops = self._ocr.get_crop_img_list(_bgr(tile), corners)
        crops, _, _ = self._ocr.text_cls(crops)
        read, _ = self._ocr.text_rec(crops, False)
        return [
            EngineLine(text=str(text), quad=quad, score=float(score))
            for quad, (text, score, *_) in zip(quads, read, strict=True)
        ]


def _bgr(tile: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(tile[:, :, ::-1])


def _quad(corners: Any) -> Quad:
    return tuple((float(x), float(y)) for x, y in corners)  # type: ignore[return-value]
