"""The similarity bar: choosing it from scores (``indexer.evaluation.calibration``) and storing it
beside the model (``indexer.calibration``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.calibration import (
    CALIBRATION_FILE,
    Calibration,
    calibration_for,
    model_directories,
    read_calibration,
)
from indexer.evaluation.calibration import best_threshold, split_scores
from indexer.evaluation.gold import GoldQuery
from indexer.model_specs import DEMO_MODEL_DIR


def test_best_threshold_separates_cleanly_split_scores() -> None:
    choice = best_threshold(np.array([0.9, 0.8, 0.7]), np.array([0.1, 0.2, 0.65]))
    assert choice.threshold == 0.7 and choice.precision == 1.0 and choice.recall == 1.0


def test_best_threshold_trades_precision_for_recall() -> None:
    # at .6: 3 of 3 relevant, 1 other (F1 .857); at .9: 1 relevant (F1 .5)
    choice = best_threshold(np.array([0.9, 0.6, 0.6]), np.array([0.6, 0.3, 0.2, 0.1]))
    assert choice.threshold == 0.6
    assert choice.precision == pytest.approx(0.75) and choice.recall == 1.0


def test_best_threshold_needs_relevant_pairs() -> None:
    with pytest.raises(ValueError, match="no relevant pairs"):
        best_threshold(np.array([]), np.array([0.2]))


def test_split_scores_uses_grades_and_exclusions() -> None:
    query = GoldQuery(id="t1", type="text", q="sea chart", relevant={"a": 2, "b": 1}, exclude=["x"])
    scores = {"t1": {"a": 0.9, "b": 0.5, "c": 0.4, "x": 0.99}}
    relevant, other = split_scores([query], scores, min_grade=1)
    assert sorted(relevant.tolist()) == [0.5, 0.9] and other.tolist() == [0.4]
    strict, rest = split_scores([query], scores, min_grade=2)
    assert strict.tolist() == [0.9] and sorted(rest.tolist()) == [0.4, 0.5]


def test_calibration_is_found_by_model_id_beside_the_model(tmp_path: Path) -> None:
    (tmp_path / CALIBRATION_FILE).write_text(Calibration("m/1", 0.25, "test").to_json())
    assert read_calibration(tmp_path) == Calibration("m/1", 0.25, "test")
    assert calibration_for("m/1", str(tmp_path)) is not None
    assert calibration_for("m/2", str(tmp_path)) is None  # another model's bar never applies
    assert model_directories(str(tmp_path))[0] == tmp_path


def test_unreadable_calibration_is_none(tmp_path: Path) -> None:
    (tmp_path / CALIBRATION_FILE).write_text("{not json")
    assert read_calibration(tmp_path) is None


def test_the_shipped_demo_model_is_calibrated() -> None:
    shipped = read_calibration(DEMO_MODEL_DIR)
    assert shipped is not None and 0 < shipped.min_similarity < 1
    config = (DEMO_MODEL_DIR / "config.json").read_text()
    assert f'"model_id": "{shipped.model_id}"' in config
    assert calibration_for(shipped.model_id, "demo") == shipped
    # the default modifier weight, chosen on the development collection (never the gold one)
    assert shipped.modifier_weight is not None and 0 < shipped.modifier_weight <= 2
    assert "calibrate-steering" in shipped.steering["method"]
    curve = {point["weight"]: point["attribute_share"] for point in shipped.steering["curve"]}
    assert curve[shipped.modifier_weight] >= 0.8 > curve[0.5]  # where the old default stood
