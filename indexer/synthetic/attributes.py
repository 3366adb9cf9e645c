"""Sampling the ground-truth attributes of one synthetic map.

The probabilities mimic real collections loosely: sea monsters are mostly early world maps and
charts, blueprints are mostly modern city plans, bird's-eye views are 19th-century. Every
combination stays possible so that queries such as "a grayscale map with a sea monster" have
answers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from indexer.synthetic.vocabulary import KINDS, ORNAMENTS, era_of

KIND_WEIGHTS = {
    "world_map": 0.18,
    "regional_map": 0.24,
    "city_plan": 0.22,
    "nautical_chart": 0.19,
    "birds_eye_view": 0.17,
}
YEAR_RANGES = {
    "world_map": (1500, 1960),
    "regional_map": (1550, 1960),
    "city_plan": (1650, 1960),
    "nautical_chart": (1580, 1960),
    "birds_eye_view": (1800, 1930),
}


def _choice(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    probabilities = np.array([weights[n] for n in names], dtype=float)
    return names[int(rng.choice(len(names), p=probabilities / probabilities.sum()))]


def _colour_scheme(rng: np.random.Generator, kind: str, year: int) -> str:
    if year < 1700:
        weights = {
            "sepia": 0.32,
            "hand_coloured": 0.30,
            "full_colour": 0.14,
            "grayscale": 0.18,
            "blueprint": 0.06,
        }
    elif year < 1850:
        weights = {
            "hand_coloured": 0.32,
            "sepia": 0.18,
            "full_colour": 0.2,
            "grayscale": 0.22,
            "blueprint": 0.08,
        }
    else:
        weights = {
            "full_colour": 0.32,
            "grayscale": 0.24,
            "blueprint": 0.16,
            "hand_coloured": 0.12,
            "sepia": 0.16,
        }
    if kind == "city_plan":
        weights["blueprint"] *= 2.0
    if kind == "birds_eye_view":
        weights["blueprint"] *= 0.4
    return _choice(rng, weights)


def _ornaments(rng: np.random.Generator, kind: str, year: int) -> list[str]:
    early = year < 1700
    sea = kind in ("world_map", "nautical_chart")
    probability = {
        "sea_monster": (0.5 if early else 0.22 if year < 1800 else 0.1)
        if sea
        else (0.1 if early else 0.04),
        "ship": {
            "world_map": 0.4,
            "nautical_chart": 0.6,
            "regional_map": 0.2,
            "city_plan": 0.12,
            "birds_eye_view": 0.35,
        }[kind],
        "compass_rose": {
            "world_map": 0.35,
            "nautical_chart": 0.75,
            "regional_map": 0.3,
            "city_plan": 0.3,
            "birds_eye_view": 0.06,
        }[kind],
        "cartouche": (0.6 if year < 1800 else 0.25) * (0.4 if kind == "birds_eye_view" else 1.0),
        "coat_of_arms": {
            "world_map": 0.1,
            "nautical_chart": 0.1,
            "regional_map": 0.32,
            "city_plan": 0.36,
            "birds_eye_view": 0.15,
        }[kind]
        * (1.3 if year < 1800 else 1.0),
    }
    return [name for name in ORNAMENTS if rng.random() < probability[name]]


def _relief(rng: np.random.Generator, kind: str, year: int) -> str:
    if kind == "city_plan":
        return _choice(rng, {"none": 0.8, "pictorial": 0.1, "shaded": 0.1})
    if kind == "birds_eye_view":
        return _choice(rng, {"none": 0.45, "pictorial": 0.55, "shaded": 0.0})
    if kind == "nautical_chart":
        return _choice(rng, {"none": 0.5, "pictorial": 0.3, "shaded": 0.2})
    if year < 1850:
        return _choice(rng, {"none": 0.3, "pictorial": 0.5, "shaded": 0.2})
    return _choice(rng, {"none": 0.3, "pictorial": 0.2, "shaded": 0.5})


def _text_density(rng: np.random.Generator, kind: str) -> str:
    return _choice(
        rng,
        {
            "world_map": {"sparse": 0.35, "moderate": 0.4, "dense": 0.25},
            "regional_map": {"sparse": 0.2, "moderate": 0.35, "dense": 0.45},
            "city_plan": {"sparse": 0.15, "moderate": 0.35, "dense": 0.5},
            "nautical_chart": {"sparse": 0.3, "moderate": 0.45, "dense": 0.25},
            "birds_eye_view": {"sparse": 0.6, "moderate": 0.3, "dense": 0.1},
        }[kind],
    )


def _wear(rng: np.random.Generator, year: int) -> str:
    if year > 1880:
        return _choice(rng, {"clean": 0.65, "worn": 0.2, "stained": 0.15})
    return _choice(rng, {"clean": 0.35, "worn": 0.35, "stained": 0.3})


def _language(rng: np.random.Generator, year: int) -> str:
    if year < 1700:
        weights = {
            "latin": 0.3,
            "dutch": 0.25,
            "english": 0.2,
            "french": 0.12,
            "spanish": 0.08,
            "german": 0.05,
        }
    elif year < 1850:
        weights = {
            "english": 0.5,
            "french": 0.25,
            "german": 0.1,
            "dutch": 0.08,
            "spanish": 0.05,
            "latin": 0.02,
        }
    else:
        weights = {"english": 0.75, "french": 0.1, "german": 0.1, "spanish": 0.05}
    return _choice(rng, weights)


def _size(rng: np.random.Generator, kind: str, projection: str | None) -> tuple[int, int]:
    long_side = int(rng.choice([384, 448, 512]))
    if kind == "world_map":
        aspect = 2.0 if projection == "hemispheres" else 1.6
    else:
        aspect = float(
            rng.choice(
                {
                    "regional_map": [0.78, 1.25, 1.33],
                    "city_plan": [1.0, 1.2, 0.85],
                    "nautical_chart": [1.4, 1.5, 1.25],
                    "birds_eye_view": [1.5, 1.6, 1.4],
                }[kind]
            )
        )
    if aspect >= 1:
        return long_side, max(256, round(long_side / aspect))
    return max(256, round(long_side * aspect)), long_side


def sample_attributes(rng: np.random.Generator) -> dict[str, Any]:
    """Draw one map's ground truth: kind, colour scheme,
    ornaments, relief, text, wear, year, size."""
    kind = _choice(rng, KIND_WEIGHTS)
    assert kind in KINDS
    first, last = YEAR_RANGES[kind]
    year = int(rng.integers(first, last + 1))
    projection = None
    if kind == "world_map":
        projection = (
            "hemispheres" if rng.random() < (0.7 if year < 1800 else 0.25) else "rectangular"
        )
    width, height = _size(rng, kind, projection)
    attributes: dict[str, Any] = {
        "kind": kind,
        "colour_scheme": _colour_scheme(rng, kind, year),
        "ornaments": _ornaments(rng, kind, year),
        "relief": _relief(rng, kind, year),
        "text_density": _text_density(rng, kind),
        "wear": _wear(rng, year),
        "year": year,
        "era": era_of(year),
        "language": _language(rng, year),
        "width": width,
        "height": height,
    }
    if projection:
        attributes["projection"] = projection
    return attributes
