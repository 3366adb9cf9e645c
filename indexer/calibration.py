"""A model's calibration, stored beside the model (``calibration.json``): the similarity bar (the
cosine above which a text query's semantic match counts as a match, from a gold set) and the
default modifier weight (from a development collection, ``mapsearch calibrate-steering``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from indexer.model_specs import DEMO_MODEL_DIR

CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Calibration:
    """The bar of one model (by id), and how it was derived (for people and for re-derivation)."""

    model_id: str
    min_similarity: float
    method: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    # The weight a modifier gets when none is given ("grayscale" = "grayscale:<this>").
    modifier_weight: float | None = None
    steering: dict[str, Any] = field(default_factory=dict)  # how modifier_weight was chosen

    def to_json(self) -> str:
        """The file's text."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


def read_calibration(directory: Path) -> Calibration | None:
    """The calibration stored in ``directory``, or None when it has none (or it is unreadable)."""
    path = directory / CALIBRATION_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Calibration(
            model_id=str(data["model_id"]),
            min_similarity=float(data["min_similarity"]),
            method=str(data.get("method", "")),
            figures=dict(data.get("figures", {})),
            modifier_weight=(
                float(data["modifier_weight"]) if data.get("modifier_weight") is not None else None
            ),
            steering=dict(data.get("steering", {})),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def model_directories(spec: str) -> list[Path]:
    """Where the model named by ``MAPSEARCH_MODEL`` keeps its files: a checkpoint directory (or
    the directory of a weights file), and the shipped demo model's."""
    candidates: list[Path] = []
    text = spec.strip()
    if text and text != "demo":
        path = Path(text.rpartition(":")[2] if ":" in text and not Path(text).exists() else text)
        path = path.expanduser()
        if path.is_dir():
            candidates.append(path)
        elif path.is_file():
            candidates.append(path.parent)
    candidates.append(DEMO_MODEL_DIR)
    return candidates


@lru_cache(maxsize=16)
def calibration_for(model_id: str, spec: str) -> Calibration | None:
    """The calibration of the model ``model_id`` (the index's model), looked up beside the model
    that ``spec`` names; None when that model was never calibrated."""
    for directory in model_directories(spec):
        found = read_calibration(directory)
        if found is not None and found.model_id == model_id:
            return found
    return None
