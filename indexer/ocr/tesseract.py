"""Tesseract 5 (Debian's ``tesseract-ocr`` and language packs, through pytesseract): sparse-text
page segmentation finds scattered labels; it reads horizontal text only."""

from __future__ import annotations

import numpy as np

from indexer.ocr.engine import EngineLine, OcrUnavailable

# The map languages of the collections (language packs installed by scripts/install-ocr.sh).
LANGUAGES = "eng+fra+deu+spa+nld+lat+ita"


class TesseractEngine:
    """``OcrEngine`` over the ``tesseract`` program; one word per line, confidence / 100."""

    def __init__(self, threads: int = 1, languages: str = LANGUAGES) -> None:
        try:
            import pytesseract
        except ImportError as exc:
            raise OcrUnavailable(
                "pytesseract is not installed: install the `ocr` extra (scripts/install-ocr.sh)"
            ) from exc
        try:
            version = pytesseract.get_tesseract_version()
            installed = set(pytesseract.get_languages())
        except (pytesseract.TesseractNotFoundError, OSError) as exc:
            raise OcrUnavailable(
                "the tesseract program is not installed: run scripts/install-ocr.sh"
            ) from exc
        self._languages = "+".join(lang for lang in languages.split("+") if lang in installed)
        if not self._languages:
            raise OcrUnavailable(f"none of the Tesseract languages {languages} is installed")
        self._pytesseract = pytesseract
        # Tesseract's own OpenMP threads; the pipeline parallelises across processes instead.
        self._environment = {"OMP_THREAD_LIMIT": str(threads)}
        self.name = f"tesseract-{version}"

    def read(self, tile: np.ndarray) -> list[EngineLine]:
        """Words of one RGB tile (page segmentation 11: sparse text, as labels are)."""
        import os

        os.environ.update(self._environment)
        data = self._pytesseract.image_to_data(
            tile,
            lang=self._languages,
            config="--psm 11",
            output_type=self._pytesseract.Output.DICT,
        )
        lines = []
        for text, conf, left, top, width, height in zip(
            data["text"],
            data["conf"],
            data["left"],
            data["top"],
            data["width"],
            data["height"],
            strict=True,
        ):
            if not str(text).strip() or float(conf) < 0:
                continue
            x0, y0, x1, y1 = float(left), float(top), float(left + width), float(top + height)
            lines.append(
                EngineLine(
                    text=str(text),
                    quad=((x0, y0), (x1, y0), (x1, y1), (x0, y1)),
                    score=float(conf) / 100,
                )
            )
        return lines
