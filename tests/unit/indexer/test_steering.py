"""Steering calibration: shares of the steered-to attribute per weight, and the default chosen."""

from __future__ import annotations

import pytest

from indexer.evaluation.steering import SteeringPoint, default_weight, query_maps, steering_curve

TRUTH = {
    "q1": {"kind": "chart", "colour_scheme": "sepia"},
    "q2": {"kind": "plan", "colour_scheme": "colour"},
    "g1": {"kind": "chart", "colour_scheme": "grayscale"},
    "g2": {"kind": "plan", "colour_scheme": "grayscale"},
    "c1": {"kind": "chart", "colour_scheme": "colour"},
}


def fake_search(doc: str, modify: list[str]) -> list[str]:
    """Weight >= 1 puts the grayscale maps first (same kind first), below 1 the colour ones."""
    weight = float(modify[0].split(":")[1])
    others = [d for d in TRUTH if d != doc]
    if weight < 1:
        return sorted(others, key=lambda d: TRUTH[d]["colour_scheme"] == "grayscale")
    kind = TRUTH[doc]["kind"]
    return sorted(
        others,
        key=lambda d: (TRUTH[d]["colour_scheme"] != "grayscale", TRUTH[d]["kind"] != kind),
    )


def test_query_maps_are_the_ones_without_the_value() -> None:
    assert set(query_maps(TRUTH, "colour_scheme", "grayscale", 10, seed=0)) == {"q1", "q2", "c1"}
    assert len(query_maps(TRUTH, "colour_scheme", "grayscale", 2, seed=0)) == 2


def test_curve_counts_top_k_shares_per_weight() -> None:
    curve = steering_curve(
        fake_search,
        TRUTH,
        ["q1", "q2"],
        "grayscale",
        ("colour_scheme", "grayscale"),
        weights=(0.5, 1.0),
        k=1,
    )
    assert curve == [SteeringPoint(0.5, 0.0, 0.0), SteeringPoint(1.0, 1.0, 1.0)]


def test_default_is_the_gentlest_weight_near_the_best() -> None:
    curve = [
        SteeringPoint(0.5, 0.0, 0.0),
        SteeringPoint(1.0, 0.6, 0.5),
        SteeringPoint(1.5, 0.93, 0.87),
        SteeringPoint(2.0, 0.98, 0.91),
    ]
    assert default_weight(curve).weight == 1.5
    with pytest.raises(ValueError):
        default_weight([])
