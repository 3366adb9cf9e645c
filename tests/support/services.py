"""How tests meet the real services: under CI a missing service fails the test, elsewhere it
skips with the command that starts it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from indexer.ocr import OcrEngine

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(name: str, available: bool, how_to_start: str) -> None:
    """Fail (CI) or skip (elsewhere) when a real service the test needs is not there."""
    if available:
        return
    message = f"{name} is not available; start it with: {how_to_start}"
    if IN_CI:
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def require_ocr_engine(name: str = "rapidocr") -> OcrEngine:
    """The named OCR engine, loaded; fail (CI) or skip (elsewhere) with how to install it."""
    from indexer.ocr import OcrUnavailable, load_engine

    try:
        return load_engine(name)
    except OcrUnavailable as exc:
        require_service(f"the {name} OCR engine", False, f"scripts/install-ocr.sh ({exc})")
        raise
