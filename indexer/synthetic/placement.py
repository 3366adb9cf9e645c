"""Label placement for large sheets: each label is lettered where it covers no ornament and no
label lettered before it, as a cartographer would, moved nearby or elsewhere in its area when its
first spot is taken, else left out."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from indexer.synthetic.canvas import Canvas, PendingLabel
from indexer.synthetic.lettering import (
    dot_radius,
    draw_label,
    font,
    letter,
    letter_rotated,
    rotated_stamp,
)

Extent = tuple[float, float, float, float]  # left, top, right, bottom relative to the anchor
#: Spots tried around a taken one: rings at multiples of the lettering size, this many per ring.
NEAR_RINGS = 4
NEAR_PER_RING = 8
#: Spots tried anywhere in a roaming label's area before it is left out.
FAR_TRIES = 40


def _extent(label: PendingLabel) -> Extent:
    """Where ``label`` inks, relative to its anchor point (a town symbol included)."""
    if label.angle is not None:
        stamp = rotated_stamp(label.text, label.size, label.angle)
        return (
            -stamp.width / 2 - 1,
            -stamp.height / 2 - 1,
            stamp.width / 2 + 1,
            stamp.height / 2 + 1,
        )
    left, top, right, bottom = font(label.size).getbbox(label.text, anchor=label.anchor)
    if label.dot:  # the symbol is centred on the anchor and the name starts right of it
        radius = dot_radius(label.size)
        shift = radius + 2
        return (-radius, min(top, -radius), shift + right, max(bottom, radius))
    return (float(left), float(top), float(right), float(bottom))


def _spots(
    label: PendingLabel, rng: np.random.Generator, area_points: dict[int, np.ndarray]
) -> list[tuple[float, float]]:
    """The label's own spot, then rings around it, then (roaming labels) anywhere in its area."""
    x, y = label.xy
    spots = [(x, y)]
    for ring in range(1, NEAR_RINGS + 1):
        radius = ring * label.size * 1.2
        phase = float(rng.uniform(0, 2 * math.pi))
        spots += [
            (
                x + radius * math.cos(phase + k * 2 * math.pi / NEAR_PER_RING),
                y + radius * math.sin(phase + k * 2 * math.pi / NEAR_PER_RING),
            )
            for k in range(NEAR_PER_RING)
        ]
    if label.roam and label.area is not None:
        points = area_points.get(id(label.area))
        if points is None:
            points = area_points[id(label.area)] = np.flatnonzero(label.area)
        if points.size:
            width = label.area.shape[1]
            for index in rng.choice(points, size=min(FAR_TRIES, points.size), replace=False):
                spots.append((float(index % width), float(index // width)))
    return spots


def _letter(canvas: Canvas, label: PendingLabel, xy: tuple[float, float]) -> None:
    """Draw ``label`` at ``xy`` (which records its box)."""
    if label.angle is not None:
        letter_rotated(canvas, xy, label.text, label.size, label.fill, label.angle)
    elif label.dot:
        draw_label(canvas, xy, label.text, label.size, label.fill, dot=True)
    else:
        letter(canvas, xy, label.text, label.size, label.fill, anchor=label.anchor)


def _mark(taken: np.ndarray, box: list[Any] | tuple[float, ...]) -> None:
    """Mark an [x, y, w, h] box as taken."""
    x, y, w, h = (int(round(v)) for v in box)
    taken[max(0, y) : max(0, y + h), max(0, x) : max(0, x + w)] = True


def place_labels(canvas: Canvas, labels: list[PendingLabel], rng: np.random.Generator) -> int:
    """Letter ``labels`` in order, each clear of the ornaments and of the labels before it by a
    small gap; return how many found no free spot (those are not drawn, so not in the ground
    truth)."""
    x0, y0, x1, y1 = canvas.frame
    gap = canvas.px(1.5)
    taken = np.zeros((canvas.height, canvas.width), dtype=bool)
    for entry in canvas.ornament_boxes + canvas.label_boxes:
        _mark(taken, entry["box"])
    for left, top, right, bottom in canvas.occupied:  # where the ornaments were meant to go
        _mark(taken, (left, top, right - left, bottom - top))
    area_points: dict[int, np.ndarray] = {}
    left_out = 0
    for label in labels:
        extent = _extent(label)
        for index, (x, y) in enumerate(_spots(label, rng, area_points)):
            if index and label.area is not None:
                row, col = int(y), int(x)
                if not (
                    0 <= row < label.area.shape[0]
                    and 0 <= col < label.area.shape[1]
                    and label.area[row, col]
                ):
                    continue
            left = math.floor(x + extent[0]) - gap
            top = math.floor(y + extent[1]) - gap
            right = math.ceil(x + extent[2]) + gap
            bottom = math.ceil(y + extent[3]) + gap
            if left < x0 or top < y0 or right > x1 or bottom > y1:
                continue
            if taken[top:bottom, left:right].any():
                continue
            _letter(canvas, label, (x, y))
            _mark(taken, (left + gap, top + gap, right - left - 2 * gap, bottom - top - 2 * gap))
            break
        else:
            left_out += 1
    return left_out
