"""Cheap raster primitives for procedural maps: smooth noise fields, land masks, isolines, hill
shading and random points inside a mask. Everything is numpy at image resolution."""

from __future__ import annotations

import numpy as np
from PIL import Image


def smooth_noise(
    rng: np.random.Generator, width: int, height: int, cells: int, octaves: int = 2
) -> np.ndarray:
    """A (height, width) float32 field of smooth noise, standardised to mean 0 and std 1."""
    field = np.zeros((height, width), dtype=np.float32)
    amplitude = 1.0
    for octave in range(octaves):
        n = cells * (3**octave)
        grid_w = max(2, round(n * width / max(width, height)) + 1)
        grid_h = max(2, round(n * height / max(width, height)) + 1)
        coarse = rng.random((grid_h, grid_w), dtype=np.float32)
        field += amplitude * np.asarray(
            Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
        )
        amplitude *= 0.35
    field -= field.mean()
    std = float(field.std())
    return field / std if std > 0 else field


def isoline(field: np.ndarray, level: float) -> np.ndarray:
    """Boolean mask of the pixels where ``field`` crosses ``level`` (a one-pixel contour)."""
    above = field > level
    edge = np.zeros_like(above)
    edge[1:, :] |= above[1:, :] != above[:-1, :]
    edge[:, 1:] |= above[:, 1:] != above[:, :-1]
    return edge


def outline(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` that touch a pixel outside it (the coastline of a land mask)."""
    inner = mask.copy()
    inner[1:, :] &= mask[:-1, :]
    inner[:-1, :] &= mask[1:, :]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    return mask & ~inner


def dilate(mask: np.ndarray, size: int) -> np.ndarray:
    """Grow a boolean mask by a square of odd ``size`` pixels."""
    if size <= 1:
        return mask
    # a square is a row then a column: linear in size where Pillow's MaxFilter is quadratic,
    # which matters on large sheets; the same pixels (both clip the square at the image's edge)
    radius = (size | 1) // 2
    return _grow_along(_grow_along(mask, radius, axis=1), radius, axis=0)


def _grow_along(mask: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """``mask`` grown by ``radius`` pixels both ways along one axis."""
    length = mask.shape[axis]
    running = np.cumsum(mask, axis=axis, dtype=np.int32)
    running = np.concatenate([np.zeros_like(np.take(running, [0], axis=axis)), running], axis=axis)
    positions = np.arange(length)
    upper = np.minimum(positions + radius + 1, length)
    lower = np.maximum(positions - radius, 0)
    return (np.take(running, upper, axis=axis) - np.take(running, lower, axis=axis)) > 0


def hillshade(height_field: np.ndarray) -> np.ndarray:
    """Lambertian shading in [0, 1] of a height field lit from the north-west."""
    gy, gx = np.gradient(height_field * 6.0)
    shade = (-gx - gy) / np.sqrt(1.0 + gx * gx + gy * gy)
    return np.clip(0.5 + 0.5 * shade, 0.0, 1.0).astype(np.float32)


def sample_points(
    rng: np.random.Generator, mask: np.ndarray, count: int, margin: int = 0
) -> list[tuple[int, int]]:
    """Up to ``count`` random (x, y) points inside
    ``mask``, at least ``margin`` px from the edge."""
    if margin:
        mask = mask.copy()
        mask[:margin, :] = False
        mask[-margin:, :] = False
        mask[:, :margin] = False
        mask[:, -margin:] = False
    candidates = np.flatnonzero(mask)
    if candidates.size == 0 or count <= 0:
        return []
    chosen = rng.choice(candidates, size=min(count, candidates.size), replace=False)
    width = mask.shape[1]
    return [(int(i % width), int(i // width)) for i in chosen]


def voronoi_labels(
    rng: np.random.Generator, width: int, height: int, regions: int, wobble: np.ndarray
) -> np.ndarray:
    """(height, width) int labels of ``regions`` cells with boundaries wobbled by a noise field."""
    seeds_x = rng.random(regions, dtype=np.float32) * width
    seeds_y = rng.random(regions, dtype=np.float32) * height
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs = xs + wobble * (0.04 * width)
    ys = ys + wobble * (0.04 * height)
    distance = (xs[None] - seeds_x[:, None, None]) ** 2 + (ys[None] - seeds_y[:, None, None]) ** 2
    return np.argmin(distance, axis=0)
