"""Bounding-box notations → Extent; anything invalid → None."""

from __future__ import annotations

import pytest

from indexer.extent import parse_bbox, parse_envelope, parse_extent
from indexer.records import Extent


def box(extent: Extent | None) -> tuple[float, float, float, float] | None:
    return None if extent is None else (extent.west, extent.south, extent.east, extent.north)


def test_envelope_order_is_west_east_north_south() -> None:
    assert box(parse_envelope("ENVELOPE(9.0, 17.5, 49.5, 46.0)")) == (9.0, 46.0, 17.5, 49.5)


def test_envelope_crossing_antimeridian_keeps_west_above_east() -> None:
    extent = parse_extent("ENVELOPE(170, -170, 10, -10)")
    assert box(extent) == (170, -10, -170, 10)
    assert extent is not None and extent.centroid == (0, 180)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-10,20,30,40", (-10, 20, 30, 40)),
        ("-10 20 30 40", (-10, 20, 30, 40)),
        ([-10, 20, 30, 40], (-10, 20, 30, 40)),
        ("POLYGON((30 10, 40 40, 20 40, 10 20, 30 10))", (10, 10, 40, 40)),
        ("MULTIPOLYGON(((1 1,2 2,1 2,1 1)),((5 5,6 6,5 6,5 5)))", (1, 1, 6, 6)),
        ("POINT(10 20)", (10, 20, 10, 20)),
        ("(W 124\u00b030'--W 114\u00b0/N 42\u00b0--N 32\u00b0)", (-124.5, 32, -114, 42)),
        ("38.5, -77.25", (-77.25, 38.5, -77.25, 38.5)),
    ],
)
def test_supported_notations(value: object, expected: tuple[float, ...]) -> None:
    assert box(parse_extent(value)) == pytest.approx(expected)


@pytest.mark.parametrize(
    "value",
    [
        "ENVELOPE(1,2,3)",
        "ENVELOPE(0, 1, -5, 5)",  # north below south
        "ENVELOPE(200, 0, 0, 0)",  # longitude out of range
        "nan,1,2,3",
        "1,2,3",
        "POLYGON((1 2, 3))",
        "garbage",
        "",
        None,
        [1, 2, 3],
        ["a", "b", "c", "d"],
        {"west": 1},
    ],
)
def test_invalid_gives_none(value: object) -> None:
    assert parse_extent(value) is None


def test_random_inputs_never_raise() -> None:
    import random

    rng = random.Random(7)
    alphabet = "ENVELOPE()POLYGON,-.0123456789 NSEW\u00b0'\"/"
    for _ in range(3000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        extent = parse_extent(value)
        assert extent is None or extent.south <= extent.north


def test_bbox_rejects_words() -> None:
    assert parse_bbox("a,b,c,d") is None
